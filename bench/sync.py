"""Benchmark: the initial sync of 5,000 people / 300 departments and a no-change resync, against the
sandbox portal with the cloud's limits on (2 requests/s, burst 50), and a naive one-call-per-record
run of the same plan for comparison.

Minimum REST calls = writes ÷ 50 (rounded up) + the calls the reads need (absences name no calendar section,
so there are no look-ups);
the wall-time floor is what the leaky bucket allows: (calls − 50) ÷ 2 seconds.
Targets: calls ≤ 1.1 × the minimum; a no-change resync writes nothing and reads in ≤ 2 + people ÷ 2,500 calls.

usage: .venv/bin/python bench/sync.py [--people 5000] [--departments 300] [--naive-sample 150]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 25)
RATE, BURST = 2.0, 50


def floor(calls: int) -> float:
    return max(0.0, (calls - BURST) / RATE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--naive-sample", type=int, default=150, help="operations the naive run performs")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    os.environ.update(DJANGO_SETTINGS_MODULE="hrsync.settings", DJANGO_DEBUG="0", HRSYNC_ENV_FILE="/nonexistent",
                      DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                      FIELD_ENCRYPTION_KEY="oMAC7Pjeg-NWif-Zpb7TlgkdDUkk8qklMLi1r9dES9E=", BITRIX_ALLOW_HTTP="1",
                      DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3", REDIS_URL="", CELERY_BROKER_URL="", LOG_LEVEL="WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bitrix_app.client import BitrixClient
    from bitrix_app.models import Portal
    from hrsync.models import SyncRun
    from hrsync.services import load_mappings, read_portal_state, run_sync
    from hrsync.sync import operations as o
    from hrsync.sync import plan as p
    from hrsync.sync.portal import SyncSettings
    from payroll_connector.services import connect_odata, read_snapshot
    from sandbox.bitrix24.server import start_portal
    from sandbox.bitrix24.state import AppRegistration
    from sandbox.zup.generator import generate_company
    from sandbox.zup.server import start_zup

    zup = start_zup(infobase=generate_company(seed=1, size=args.people, today=TODAY, departments=args.departments))
    sandbox = start_portal(app=AppRegistration(app_url="http://127.0.0.1:1/"), rate=RATE, burst=BURST, access_ttl=86400)
    sandbox.state.app_present = sandbox.state.app_installed = True
    tokens = sandbox.state.issue_tokens(1)

    def portal_row(member: str) -> Portal:
        portal = Portal.objects.create(member_id=member, domain=sandbox.state.domain, client_endpoint=sandbox.state.client_endpoint,
                                       server_endpoint=sandbox.state.server_endpoint, status="active", token_user_id="1",
                                       rate_per_second=RATE, rate_burst=BURST)
        portal.set_tokens(access_token=tokens["access_token"], refresh_token=tokens["refresh_token"], expires_in=86400)
        portal.save()
        connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
        return portal

    portal = portal_row("bench")
    snapshot = read_snapshot(portal.payroll_connection, today=TODAY)
    started = time.perf_counter()
    first = run_sync(portal, today=TODAY, trigger="bench")
    first_wall = time.perf_counter() - started
    ops = first.operations.count()
    read_calls_first = 1
    minimum_first = math.ceil(ops / 50) + read_calls_first

    writes_before = sum(n for m, n in sandbox.state.stats["by_method"].items() if m.endswith((".add", ".update", ".delete")))
    sandbox.state.bucket.level = 0.0
    started = time.perf_counter()
    again = run_sync(portal, today=TODAY, trigger="bench")
    resync_wall = time.perf_counter() - started
    writes_after = sum(n for m, n in sandbox.state.stats["by_method"].items() if m.endswith((".add", ".update", ".delete")))
    users = sum(1 for u in sandbox.state.users.values())
    resync_budget = 2 + users // 2500

    # The naive way: the same kind of plan, one HTTP call per operation, on a fresh portal.
    for key in ("users", "departments", "events", "sections"):
        getattr(sandbox.state, key).clear()
    sandbox.state._ids = {kind: 0 for kind in sandbox.state._ids}
    sandbox.state._seed()
    sandbox.state.bucket.level = 0.0
    naive_portal = portal_row("naive")
    client = BitrixClient.for_portal(naive_portal)
    naive_plan = p.plan_sync(snapshot, read_portal_state(client, naive_portal), load_mappings(naive_portal),
                             SyncSettings(today=TODAY))
    sample = [op for op in naive_plan.operations if isinstance(op, o.CreateDepartment)][: args.naive_sample]
    ids: dict[str, int] = {}
    calls_before = client.stats.http_calls
    started = time.perf_counter()
    for op in sample:
        parent = op.parent if isinstance(op.parent, int) else ids.get(op.parent.payroll_id)
        ids[op.payroll_id] = client.call("department.add", {"NAME": op.name, "PARENT": parent})
    naive_wall = time.perf_counter() - started
    naive_calls = client.stats.http_calls - calls_before
    sandbox.shutdown()
    zup.shutdown()

    print(f"Sync of a generated company: {len(snapshot.persons):,} people, {len(snapshot.departments):,} departments "
          f"(seed 1); sandbox portal at {RATE:g} requests/s, burst {BURST}.\n")
    print("| run | operations | REST calls | minimum | calls ÷ minimum | wall time | bucket floor | 503s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| initial sync | {ops:,} | {first.rest_calls} | {minimum_first} | "
          f"{first.rest_calls / minimum_first:.2f} | {first_wall:.1f} s | {floor(first.rest_calls):.1f} s | "
          f"{sandbox.state.stats['rejected_503']} |")
    print(f"| no-change resync | {again.operations.count()} (writes: {writes_after - writes_before}) | {again.rest_calls} | "
          f"budget {resync_budget} | — | {resync_wall:.1f} s | {floor(again.rest_calls):.1f} s | — |")
    per_op = naive_wall / max(1, len(sample))
    print(f"| naive, one call per operation (measured on {len(sample)} department.add) | {len(sample)} | {naive_calls} | "
          f"— | — | {naive_wall:.1f} s | {floor(naive_calls):.1f} s | — |")
    print(f"\nThe naive way would need {ops:,} calls for the whole initial sync: at least {floor(ops) / 60:.0f} minutes "
          f"at the bucket's rate (measured here: {per_op:.2f} s per call on average, the burst included), against "
          f"{first_wall:.0f} s batched. Statuses: {first.status}, {again.status}; "
          f"runs journaled: {SyncRun.objects.count()}.")


if __name__ == "__main__":
    main()
