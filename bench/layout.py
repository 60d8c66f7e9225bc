"""The production layout the benchmarks run on: PostgreSQL, Redis (the request bucket, the time budgets,
Celery's broker), Celery worker processes running the real tasks, and the sandbox portal(s) and ZUP each in
a process of their own. The benchmark's own process only sets up rows, enqueues, and watches the database.

A database `hrsync_bench` (dropped and made again) and Redis database 12 (flushed) are the benchmark's
(BENCH_DATABASE and BENCH_REDIS_URL name others, to run two at once).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TODAY = date(2026, 11, 25)
DATABASE = os.environ.get("BENCH_DATABASE", "hrsync_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PG = os.environ.get("BENCH_PG", "postgres://hrsync:hrsync@127.0.0.1:5432")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bucket_floor(calls: int, rate: float, burst: int) -> float:
    """The least wall time the portal's request bucket allows for so many calls (the burst is free)."""
    return max(0.0, (calls - burst) / rate)


def budget_floor(seconds: float, limit: float, window: float) -> float:
    """The least wall time to spend `seconds` of one method's server time, one call after another, when the
    portal allows `limit` seconds of it per `window` (LoadLimiter, sandbox/bitrix24/operating.py): all of
    each window's allowance as soon as it frees, so a full window per `limit` but the last."""
    if seconds <= limit:
        return seconds
    full = int(seconds // limit) if seconds % limit else int(seconds // limit) - 1
    return full * window + (seconds - full * limit)


@dataclass
class SandboxPortal:
    url: str
    client_endpoint: str
    server_endpoint: str
    domain: str
    member_id: str
    oauth_host: str


class Layout:
    def __init__(self, *, env: dict[str, str] | None = None) -> None:
        self.processes: list[subprocess.Popen] = []
        self.env = {
            "DJANGO_SETTINGS_MODULE": "hrsync.settings", "DJANGO_DEBUG": "0", "HRSYNC_ENV_FILE": "/nonexistent",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "FIELD_ENCRYPTION_KEY": "oMAC7Pjeg-NWif-Zpb7TlgkdDUkk8qklMLi1r9dES9E=", "BITRIX_ALLOW_HTTP": "1",
            "DATABASE_URL": f"{PG}/{DATABASE}", "REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": REDIS_URL,
            "HRSYNC_SYNC_AFTER_PACKAGE": "0", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        os.environ.update(self.env)
        if "django.db" in sys.modules:  # a second layout in one process: let go of the old database first
            from django.db import connections

            connections.close_all()
        self._fresh_database()
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

    @staticmethod
    def _fresh_database() -> None:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DATABASE}")

    # -- the processes ---------------------------------------------------------------------------------------
    def _start(self, args: list[str], *, lines: int = 0, env: dict[str, str] | None = None) -> list[str]:
        process = subprocess.Popen([PYTHON, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                                   stdout=subprocess.PIPE if lines else subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   text=True)
        self.processes.append(process)
        return [process.stdout.readline().strip() for _ in range(lines)]

    def zup(self, *, size: int, departments: int | None = None, seed: int = 1, port: int = 0) -> str:
        """A sandbox ZUP in its own process; its OData URL."""
        port = port or _free_port()
        args = ["-m", "sandbox.zup", "--port", str(port), "--seed", str(seed), "--size", str(size),
                "--today", TODAY.isoformat()]
        if departments:
            args += ["--departments", str(departments)]
        [line] = self._start(args, lines=1)
        return line.split("Sandbox ZUP: ", 1)[1].split(" ", 1)[0]  # the OData URL it prints

    def portals(self, count: int, *, rate: float, burst: int) -> list[SandboxPortal]:
        """`count` sandbox portals served by one process of their own."""
        out = self._start(["-m", "sandbox.bitrix24", "--port", "0", "--portals", str(count), "--rate", str(rate),
                           "--burst", str(burst), "--client-id", "local.hrsync.bench"], lines=count)
        portals = [SandboxPortal(**json.loads(line)) for line in out]
        hosts = ",".join(p.oauth_host for p in portals)
        os.environ["BITRIX_OAUTH_SERVER_HOSTS"] = hosts
        return portals

    def workers(self, processes: int, *, env: dict[str, str] | None = None) -> None:
        """Celery worker processes (prefork), as `deploy/Procfile` starts them; returns once they answer."""
        self._start(["-m", "celery", "-A", "hrsync", "worker", f"--concurrency={processes}", "--pool=prefork",
                     "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"], env=env)
        from hrsync.celery import app

        deadline = time.time() + 60
        while time.time() < deadline:
            if app.control.ping(timeout=1.0):
                return
        raise RuntimeError("the Celery worker did not start")

    def web(self) -> str:
        """The web app (gunicorn, as `deploy/Procfile` starts it) in its own processes; its base URL."""
        port = _free_port()
        self._start(["-m", "gunicorn", "hrsync.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                     "--timeout", "120"], env={"ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
                                               "HRSYNC_STATIC_MANIFEST": "0"})
        import requests

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/health/", timeout=2)
                return f"http://127.0.0.1:{port}"
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("the web app did not start")

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    # -- the app's rows ----------------------------------------------------------------------------------------
    def portal_row(self, sandbox: SandboxPortal, *, odata_url: str, rate: float, burst: int):
        import requests

        from bitrix_app.models import Portal
        from payroll_connector.services import connect_odata

        tokens = requests.post(f"{sandbox.url}/_sandbox/tokens", json={"user_id": 1}, timeout=30).json()
        portal = Portal.objects.create(member_id=sandbox.member_id, domain=sandbox.domain,
                                       client_endpoint=sandbox.client_endpoint, server_endpoint=sandbox.server_endpoint,
                                       status="active", token_user_id="1", rate_per_second=rate, rate_burst=burst)
        portal.set_tokens(access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
                          expires_in=tokens["expires_in"])
        portal.save()
        connect_odata(portal, url=odata_url, username="odata", password="secret")
        return portal

    # -- runs --------------------------------------------------------------------------------------------------
    @staticmethod
    def last_run_id() -> int:
        from hrsync.models import SyncRun

        return SyncRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def enqueue(self, portal, trigger: str = "bench") -> tuple[int, float]:
        """Start a run of the portal as the product does (a task); (the last run ID before it, when)."""
        from hrsync.tasks import sync_portal

        before = self.last_run_id()
        sync_portal.delay(portal.pk, trigger)
        return before, time.time()

    def finished(self, portal, *, after_run: int, timeout: float = 7200):
        """The portal's first run after `after_run`, once it has ended (its paused parts included)."""
        from hrsync.models import RunStatus, SyncRun

        deadline = time.time() + timeout
        while time.time() < deadline:
            run = SyncRun.objects.filter(portal=portal, dry_run=False, pk__gt=after_run).order_by("pk").first()
            if run is not None and run.status not in (RunStatus.RUNNING, RunStatus.PAUSED):
                return run
            time.sleep(0.1)
        raise TimeoutError(f"no run of {portal.domain} ended")

    def sync(self, portal, trigger: str = "bench"):
        """One run through a worker: (the run, seconds from enqueueing to its end)."""
        before, enqueued = self.enqueue(portal, trigger)
        run = self.finished(portal, after_run=before)
        return run, run.finished_at.timestamp() - enqueued


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def costs_line(run) -> str:
    c = run.costs or {}
    return (f"CPU {c.get('cpu_s', 0):.1f} s, SQL {c.get('sql_statements', 0):,} statements / {c.get('sql_s', 0):.1f} s, "
            f"REST {c.get('rest_s', 0):.1f} s, bucket waits {c.get('bucket_wait_s', 0):.1f} s, "
            f"time-budget waits {c.get('budget_wait_s', 0):.1f} s")
