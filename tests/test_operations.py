"""Issue 12, what an operator needs: /health/ checks the database, Redis and the broker for real and lists
every portal's state; /metrics (Prometheus) has runs by outcome, operations by kind and outcome, REST calls,
rate-limiter waits, OAuth refreshes and the outbox's depth and age, counted across processes."""
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bitrix_app.client import BitrixClient
from hrsync.counters import counters
from hrsync.services import run_sync
from payroll_connector.models import OutboxItem, OutboxKind
from payroll_connector.services import connect_odata
from tests.conftest import ZUP_TODAY, control


@pytest.fixture(autouse=True)
def _fresh_counters():
    counters().reset()
    yield
    counters().reset()


def _metrics(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_health_checks_every_part_and_lists_the_portals(installed, client):
    sandbox, portal = installed
    answer = client.get("/health/")
    assert answer.status_code == 200, answer.json()
    report = answer.json()
    assert {name: check["ok"] for name, check in report["checks"].items()} == {"database": True, "redis": True, "broker": True}
    assert report["checks"]["database"]["detail"] == "postgresql"
    [listed] = [p for p in report["portals"] if p["id"] == portal.pk]
    assert listed["status"] == portal.status and listed["domain"] == portal.domain and listed["last_run"] is None


def test_health_says_which_part_is_down(installed, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    answer = client.get("/health/")
    assert answer.status_code == 503
    report = answer.json()
    assert report["status"] == "failing" and report["checks"]["redis"]["ok"] is False
    assert "Connection" in report["checks"]["redis"]["error"] and report["checks"]["database"]["ok"] is True


def test_the_ops_token_guards_both_endpoints(db, client, settings):
    settings.HRSYNC_OPS_TOKEN = "s3cret-ops"
    assert client.get("/health/").status_code == 401
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/health/", HTTP_AUTHORIZATION="Bearer s3cret-ops").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-ops").status_code == 200


def test_metrics_count_runs_operations_calls_waits_refreshes_and_the_outbox(installed, zup, client):
    sandbox, portal = installed
    counters().reset()  # the install's own calls are counted too; this test counts from here
    control(sandbox, "stats/reset")
    before = _metrics(client)
    assert before[("hrsync_bitrix_rest_calls_total", ())] == 0 and before[("hrsync_outbox_depth", ())] == 0

    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    portal.rate_per_second, portal.rate_burst = 50, 3  # a small bucket: some calls must wait for it
    portal.save(update_fields=["rate_per_second", "rate_burst"])
    run = run_sync(portal, today=ZUP_TODAY)
    control(sandbox, "faults", {"expire_tokens": True})
    BitrixClient.for_portal(portal).call("user.get")  # renews the pair once
    OutboxItem.objects.create(portal=portal, kind=OutboxKind.VACATION, key="metrics-1", payload={})

    after = _metrics(client)
    assert after[("hrsync_runs", (("status", run.status),))] == 1
    done = run.operations.filter(kind="CreateUser", status="done").count()
    assert done > 100 and after[("hrsync_operations", (("kind", "CreateUser"), ("status", "done")))] == done
    # Every HTTP request the portal received, counted by the app: the run's, its notification, a refused call and its repeat.
    assert after[("hrsync_bitrix_rest_calls_total", ())] == sandbox.state.stats["http_requests"] >= run.rest_calls + 2
    assert after[("hrsync_ratelimit_waits_total", ())] > 0 and after[("hrsync_ratelimit_wait_seconds_total", ())] > 0
    assert after[("hrsync_oauth_refreshes_total", (("outcome", "renewed"),))] == 1
    assert after[("hrsync_outbox_depth", ())] == 1 and after[("hrsync_outbox_oldest_age_seconds", ())] >= 0
    assert after[("hrsync_portals", (("status", "active"),))] >= 1
    text = client.get("/metrics").content.decode()
    assert not re.search(r"hrsync_\w+\{[^}]*domain", text)  # no portal names in labels
