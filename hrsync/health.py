"""What an operator's monitoring asks: is every part up (health), and how is the work going (metrics).

Health: the database, Redis (the rate limiter and the counters) and the Celery broker, each checked for
real, plus every portal's state. Metrics: read at scrape time from the database (runs, operations,
outbox, portals) and from the shared counters (hrsync.counters: REST calls, limiter waits, token
refreshes), so every process of the installation is in them, whichever one serves the scrape.
"""
from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from bitrix_app.models import Portal
from payroll_connector.models import OutboxItem, OutboxStatus

from .celery import app as celery_app
from .counters import counters
from .models import SyncOperation, SyncRun


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        detail = check()
        return {"ok": True, "detail": detail, "ms": round((time.monotonic() - started) * 1000, 1)}
    except Exception as exc:  # a health check reports any failure as that part's state, never raises
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300],
                "ms": round((time.monotonic() - started) * 1000, 1)}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured (one process: the demo)"
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    return "pong"


def _broker() -> str:
    if celery_app.conf.task_always_eager:
        return "tasks run in the web process (no broker)"
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.as_uri()


def health() -> tuple[bool, dict]:
    """(all parts up, the report). Portals in trouble do not make the installation unhealthy: they are listed."""
    checks = {"database": _timed(_database), "redis": _timed(_redis), "broker": _timed(_broker)}
    portals = []
    if checks["database"]["ok"]:
        for portal in Portal.objects.order_by("pk"):  # an installation serves tens of portals, not thousands
            run = SyncRun.objects.filter(portal=portal, dry_run=False).order_by("-started_at").first()
            portals.append({"id": portal.pk, "domain": portal.domain, "status": portal.status,
                            "last_run": {"status": run.status, "started_at": run.started_at.isoformat()} if run else None})
    ok = all(check["ok"] for check in checks.values())
    return ok, {"status": "ok" if ok else "failing", "checks": checks, "portals": portals}


class HrsyncCollector:
    """The Prometheus collector: every figure read when scraped (see the module's docstring)."""

    def collect(self):
        runs = GaugeMetricFamily("hrsync_runs", "Sync runs kept in the journal, by outcome (previews excluded)",
                                 labels=["status"])
        for status, n in SyncRun.objects.filter(dry_run=False).values_list("status").annotate(n=Count("id")):
            runs.add_metric([status], n)
        yield runs

        operations = GaugeMetricFamily("hrsync_operations", "Journaled operations of sync runs, by kind and outcome",
                                       labels=["kind", "status"])
        rows = (SyncOperation.objects.filter(run__dry_run=False).values_list("kind", "status").annotate(n=Count("id")))
        for kind, status, n in rows:
            operations.add_metric([kind, status], n)
        yield operations

        pending = OutboxItem.objects.filter(status=OutboxStatus.PENDING).aggregate(n=Count("id"), oldest=Min("created_at"))
        yield GaugeMetricFamily("hrsync_outbox_depth", "Requests to 1C:ZUP waiting to be taken", value=pending["n"])
        age = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0
        yield GaugeMetricFamily("hrsync_outbox_oldest_age_seconds", "Age of the oldest request waiting for 1C:ZUP",
                                value=age)

        portals = GaugeMetricFamily("hrsync_portals", "Portals by state", labels=["status"])
        for status, n in Portal.objects.values_list("status").annotate(n=Count("id")):
            portals.add_metric([status], n)
        yield portals

        help_of = {"bitrix_rest_calls": "HTTP calls to Bitrix24's REST API (a batch is one)",
                   "ratelimit_waits": "Calls that waited for the portal's leaky bucket",
                   "ratelimit_wait_seconds": "Seconds spent waiting for the leaky bucket",
                   "oauth_refreshes": "OAuth token pair renewals, by outcome"}
        families: dict[str, CounterMetricFamily] = {}
        try:
            counted = counters().read()
        except redis.RedisError:
            counted = []  # health says Redis is down; the database figures above still come
        for name, labels, value in counted:
            if name not in help_of:
                continue
            family = families.setdefault(name, CounterMetricFamily(f"hrsync_{name}", help_of[name], labels=sorted(labels)))
            family.add_metric([labels[k] for k in sorted(labels)], value)
        for name, text in help_of.items():  # every counter is exposed, at 0 before its first event
            if name in families:
                yield families[name]
            elif name == "oauth_refreshes":
                empty = CounterMetricFamily(f"hrsync_{name}", text, labels=["outcome"])
                empty.add_metric(["renewed"], 0)
                yield empty
            else:
                yield CounterMetricFamily(f"hrsync_{name}", text, value=0)
