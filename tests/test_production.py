"""Issue 12: the production recipe, run as the README and compose.yaml run it. The processes of
deploy/Procfile (release, gunicorn, a Celery worker, beat) start with the production settings on PostgreSQL
and Redis; static files are collected with the manifest storage and served by WhiteNoise; the translations
are compiled; then a sandbox portal installs the app through gunicorn, ZUP is connected with the recipe's
command, and a sync queued to the worker writes into the portal; beat runs its schedule; /health/ and
/metrics answer from gunicorn."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from bitrix_app.models import Portal
from hrsync.models import RunStatus, SyncRun
from hrsync.tasks import sync_portal
from sandbox.bitrix24.server import AppRegistration, start_portal
from tests.conftest import ROOT, child_env, control

pytestmark = [pytest.mark.slow]

BIN = Path(sys.executable).parent
# The Dockerfile's build environment (stand-in secrets for compilemessages and collectstatic only).
BUILD_ENV = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "build-only",
             "FIELD_ENCRYPTION_KEY": "YnVpbGQtb25seS1rZXktbmV2ZXItdXNlZC1hdC1ydW4="}


def procfile() -> dict[str, str]:
    lines = (ROOT / "deploy" / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_compose_and_the_dockerfile_run_the_procfiles_commands():
    """One recipe: compose.yaml's services and the Dockerfile's default command are deploy/Procfile's lines."""
    processes = procfile()
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for service in ("release", "web", "worker", "beat"):
        command = compose["services"][service]["command"]
        assert command[:2] == ["sh", "-c"] and command[2].removeprefix("exec ") == processes[service], service
    assert {"db", "redis"} <= set(compose["services"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f'"exec {processes["web"]}"' in dockerfile
    assert "compilemessages" in dockerfile and "collectstatic" in dockerfile and "--require-hashes" in dockerfile
    assert BUILD_ENV["FIELD_ENCRYPTION_KEY"] in dockerfile and "DJANGO_DEBUG=0" in dockerfile


@pytest.fixture
def production(transactional_db, live_server, tmp_path):
    port = _free_port()
    app_url = f"http://127.0.0.1:{port}"
    from django.conf import settings

    sandbox = start_portal(app=AppRegistration(client_id=settings.BITRIX_CLIENT_ID, client_secret=settings.BITRIX_CLIENT_SECRET,
                                               app_url=f"{app_url}/bitrix/app/", install_url=f"{app_url}/bitrix/install/"),
                           rate=50.0, burst=50)
    # The production settings (hrsync.settings, not the tests'); only what a loopback stand needs differs:
    # plain http to the sandbox (TLS terminates at the proxy in front, which the recipe puts there).
    env = child_env(DJANGO_SETTINGS_MODULE="hrsync.settings", DJANGO_DEBUG="0", APP_BASE_URL=app_url, PORT=str(port),
                    WEB_CONCURRENCY="2", WORKER_CONCURRENCY="1", ALLOWED_HOSTS="127.0.0.1",
                    BITRIX_OAUTH_SERVER_HOSTS=sandbox.oauth_host, SECURE_SSL_REDIRECT="0", HRSYNC_STATIC_MANIFEST="1",
                    CELERY_TASK_ALWAYS_EAGER="0", PATH=f"{BIN}:{os.environ['PATH']}")
    # The Dockerfile's build steps.
    for step in ("compilemessages --ignore=.venv -v 0", "collectstatic --noinput -v 0"):
        subprocess.run([sys.executable, "manage.py", *step.split()], cwd=ROOT, env={**env, **BUILD_ENV}, check=True)
    commands = procfile()
    subprocess.run(["sh", "-c", commands["release"]], cwd=ROOT, env=env, check=True, capture_output=True)
    logs = {}
    processes = {}
    try:
        for name in ("web", "worker", "beat"):
            logs[name] = open(tmp_path / f"{name}.log", "w")
            processes[name] = subprocess.Popen(["sh", "-c", f"exec {commands[name]}"], cwd=ROOT, env=env,
                                               stdout=logs[name], stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(f"{app_url}/health/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("gunicorn did not answer /health/ in 60 s")
        yield sandbox, app_url, env, tmp_path
    finally:  # whatever happened, no process of this test outlives it (a stray worker would take others' tasks)
        for process in processes.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for handle in logs.values():
            handle.close()
        sandbox.shutdown()


def test_the_production_processes_install_connect_and_sync(production, zup):
    sandbox, app_url, env, logs = production
    health = requests.get(f"{app_url}/health/", timeout=30).json()
    assert {name: c["ok"] for name, c in health["checks"].items()} == {"database": True, "redis": True, "broker": True}
    assert requests.get(f"{app_url}/static/admin/css/base.css", timeout=30).status_code == 200  # WhiteNoise
    login = requests.get(f"{app_url}/console/login/", timeout=30)
    assert login.status_code == 200 and "Консоль hrsync" in login.text  # the compiled Russian catalogue, not English

    answer = control(sandbox, "install")  # the install page, served by gunicorn
    assert answer["status"] == 200 and "BX24.installFinish()" in answer["body"], answer["body"][:300]
    control(sandbox, "install-finish")
    portal = Portal.objects.get(member_id=sandbox.state.member_id)
    connect = subprocess.run([sys.executable, "manage.py", "payroll_connect", "--portal", portal.domain, "--odata-url",
                              zup.odata_url, "--username", "odata", "--password", "secret"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert connect.returncode == 0, connect.stdout + connect.stderr

    sync_portal.delay(portal.pk, "manual")  # what the page's «Run now» does: the worker takes it
    deadline = time.time() + 120
    run = None
    while time.time() < deadline:
        run = SyncRun.objects.filter(portal=portal, dry_run=False, finished_at__isnull=False).first()
        if run:
            break
        time.sleep(0.5)
    assert run is not None and run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), run and run.error
    assert run.outcome["done"] > 250 and sum(1 for u in sandbox.state.users.values() if u.get("XML_ID")) > 200

    # Beat sends its schedule (from the database: django-celery-beat), and the worker runs what it sends.
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(name="hrsync-schedule-due-syncs").exists()
    deadline = time.time() + 30
    while time.time() < deadline and "succeeded" not in _task_lines(logs / "worker.log", "resume_interrupted_runs"):
        time.sleep(0.5)
    assert "Sending due task hrsync-resume-interrupted-runs" in (logs / "beat.log").read_text()
    assert "succeeded" in _task_lines(logs / "worker.log", "resume_interrupted_runs")

    metrics = requests.get(f"{app_url}/metrics", timeout=30).text
    assert re.search(rf'^hrsync_runs\{{status="{run.status}"\}} 1\.0$', metrics, re.M)
    assert re.search(r"^hrsync_bitrix_rest_calls_total (\d+)", metrics, re.M)


def _task_lines(log: Path, task: str) -> str:
    return "\n".join(line for line in log.read_text().splitlines() if task in line)
