"""Tasks run by a real Celery worker process on Redis, against the test database and the sandbox."""
import subprocess
import time

import pytest
from django.conf import settings

from bitrix_app.models import Portal, PortalStatus
from bitrix_app.tasks import check_portal, keep_portals_alive
from tests.conftest import celery_worker, control


@pytest.fixture
def celery_worker_process(transactional_db):
    with celery_worker(stdout=subprocess.PIPE) as worker:
        yield worker


def test_worker_checks_a_portal_and_renews_its_expired_token(installed, celery_worker_process):
    sandbox, portal = installed
    control(sandbox, "faults", {"expire_tokens": True})
    control(sandbox, "limits", {"license_family": "ent"})
    result = check_portal.delay(portal.pk).get(timeout=60)
    assert result["license_family"] == "ent" and result["rate_per_second"] == 5.0
    assert sandbox.state.stats["token_refreshes"] == 1
    stored = Portal.objects.get(pk=portal.pk)
    assert (stored.rate_per_second, stored.rate_burst) == (5.0, 250)
    assert stored.token_refreshed_at is not None


def test_beat_task_fans_out_to_operational_portals_only(sandbox_factory, celery_worker_process):
    from tests.conftest import install

    healthy, broken = sandbox_factory(), sandbox_factory()
    install(healthy)
    broken_portal = install(broken)
    Portal.objects.filter(pk=broken_portal.pk).update(status=PortalStatus.NEEDS_REAUTH)
    for running in (healthy, broken):
        control(running, "stats/reset")  # the install itself asked app.info of each portal
    assert keep_portals_alive.delay().get(timeout=60) == 1
    deadline = time.time() + 30
    while time.time() < deadline and healthy.state.stats["by_method"].get("app.info", 0) == 0:
        time.sleep(0.2)
    assert healthy.state.stats["by_method"].get("app.info", 0) >= 1
    assert broken.state.stats["by_method"].get("app.info", 0) == 0


def test_beat_schedule_is_in_the_database_scheduler():
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert settings.CELERY_BEAT_SCHEDULE["bitrix-keep-portals-alive"]["task"] == "bitrix_app.tasks.keep_portals_alive"
