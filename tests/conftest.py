"""Shared fixtures: a sandbox portal per test over real HTTP, the app on a live server, helpers."""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings as django_settings

from sandbox.bitrix24.server import RunningPortal, start_portal
from sandbox.bitrix24.state import AppRegistration

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):  # noqa: F811 - extends pytest-django's fixture
    """pytest-django's live server, started after the test database so it is stopped before the
    database is dropped (its open connection would otherwise keep the drop from happening)."""
    return live_server


@pytest.fixture
def sandbox_factory(transactional_db, live_server, settings):
    """Start sandbox portals registered to the live app; each test gets fresh ones."""
    started: list[RunningPortal] = []

    def start(**options) -> RunningPortal:
        registration = AppRegistration(
            client_id=django_settings.BITRIX_CLIENT_ID,
            client_secret=django_settings.BITRIX_CLIENT_SECRET,
            app_url=f"{live_server.url}/bitrix/app/",
            install_url=f"{live_server.url}/bitrix/install/",
        )
        options.setdefault("rate", 50.0)  # fast by default; tests of the limits set their own
        options.setdefault("burst", 50)
        running = start_portal(app=registration, **options)
        started.append(running)
        settings.BITRIX_OAUTH_SERVER_HOSTS = list(settings.BITRIX_OAUTH_SERVER_HOSTS) + [running.oauth_host]
        return running

    settings.APP_BASE_URL = live_server.url
    yield start
    for running in started:
        running.shutdown()


@pytest.fixture
def sandbox(sandbox_factory) -> RunningPortal:
    return sandbox_factory()


def control(running: RunningPortal, path: str, payload: dict | None = None, method: str = "post") -> dict:
    response = requests.request(method, f"{running.url}/_sandbox/{path}", json=payload or {}, timeout=60)
    response.raise_for_status()
    return response.json()


def install(running: RunningPortal, *, finish: bool = True):
    """The admin installs the app: the portal posts the install form, then the page's installFinish()."""
    from bitrix_app.models import Portal

    answer = control(running, "install")
    assert answer["status"] == 200, answer["body"][:500]
    assert "BX24.installFinish()" in answer["body"]
    if finish:
        control(running, "install-finish")
    portal = Portal.objects.get(member_id=running.state.member_id)
    # The app's limiter must pace to the bucket this sandbox was started with.
    portal.rate_per_second, portal.rate_burst = running.state.bucket.rate, running.state.bucket.burst
    portal.save()
    return portal


@pytest.fixture
def installed(sandbox, transactional_db):
    return sandbox, install(sandbox)


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a child process (worker, second client) that must see this test's database."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        BITRIX_OAUTH_SERVER_HOSTS=",".join(django_settings.BITRIX_OAUTH_SERVER_HOSTS),
        APP_BASE_URL=django_settings.APP_BASE_URL,
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


PYTHON = sys.executable


@contextmanager
def celery_worker(*options: str, stdout=subprocess.DEVNULL, env: dict[str, str] | None = None):
    """A real Celery worker process on the test's Redis and database (an empty queue first); stopped when the
    block ends, killed if it does not stop: a stray worker would take the next test's tasks. `env`: settings
    of the worker's own (the product reads them from its environment)."""
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()
    process = subprocess.Popen([PYTHON, "-m", "celery", "-A", "hrsync", "worker", *(options or ("--pool=solo",)),
                                "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                               cwd=ROOT, env=child_env(**(env or {})), stdout=stdout, stderr=subprocess.STDOUT, text=True)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def eager_celery():
    """Run tasks in the calling process (for tests of what a task does, not of the worker)."""
    from hrsync.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(task_always_eager=before[0], task_eager_propagates=before[1])


ZUP_TODAY = date(2026, 11, 25)  # the generated company's "today"; fixed, so tests mean the same any day


@pytest.fixture
def zup():
    """A sandbox ZUP infobase with the generated 300-person company, over HTTP."""
    from sandbox.zup.server import start_zup

    running = start_zup(seed=7, size=300, today=ZUP_TODAY)
    yield running
    running.shutdown()


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """At the end, end sessions that child processes killed on purpose (SIGKILL tests) may have left,
    so the test database can be dropped."""
    yield
    from django.db import DatabaseError, connection

    if not connection.settings_dict["NAME"].startswith("test_"):
        return  # the test database was never set up in this session
    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    except DatabaseError:
        pass
