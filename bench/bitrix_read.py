"""Benchmark: read 10,000 users and 500 departments from the sandbox portal with its real limits on.

Prints REST calls (HTTP requests) and wall time for each way of reading, against the floor the
leaky bucket allows (2 requests/s, burst 50: N calls need at least (N - 50) / 2 seconds).

usage: .venv/bin/python bench/bitrix_read.py [--users 10000] [--departments 500] [--no-naive]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The REST client belongs to the Django app (its token source stores pairs in Portal rows): settings first.
os.environ.update(DJANGO_SETTINGS_MODULE="hrsync.settings", DJANGO_DEBUG="0", HRSYNC_ENV_FILE="/nonexistent",
                  DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                  FIELD_ENCRYPTION_KEY="oMAC7Pjeg-NWif-Zpb7TlgkdDUkk8qklMLi1r9dES9E=", BITRIX_ALLOW_HTTP="1",
                  DATABASE_URL="sqlite:///:memory:", REDIS_URL="", CELERY_BROKER_URL="", LOG_LEVEL="WARNING")
import django  # noqa: E402

django.setup()

from bitrix_app.client import BitrixClient, PortalEndpoint  # noqa: E402
from bitrix_app.client.client import IdWindows, read_lists  # noqa: E402
from bitrix_app.client.oauth import StaticTokenSource  # noqa: E402
from bitrix_app.client.ratelimit import LocalRateLimiter  # noqa: E402
from sandbox.bitrix24.server import start_portal  # noqa: E402
from sandbox.bitrix24.state import AppRegistration  # noqa: E402

RATE, BURST = 2.0, 50


def floor_seconds(calls: int) -> float:
    return max(0.0, (calls - BURST) / RATE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--departments", type=int, default=500)
    parser.add_argument("--no-naive", action="store_true")
    args = parser.parse_args()

    running = start_portal(app=AppRegistration(app_url="http://127.0.0.1:1/"), rate=RATE, burst=BURST)
    state = running.state
    state.app_present = True
    with state.lock:
        root = min(state.departments)
        deps = [state.add_department_unchecked(f"Отдел {i}", root) for i in range(args.departments - 1)]
        for i in range(args.users - 1):
            state.add_user_unchecked({"NAME": "Сотрудник", "LAST_NAME": f"N{i}", "EMAIL": f"u{i}@bench.example",
                                      "UF_DEPARTMENT": [deps[i % len(deps)]]})
    token = state.issue_tokens(1)["access_token"]

    def fresh_client() -> BitrixClient:
        # A fresh limiter and a full server bucket for every way, so each starts from the same place.
        state.bucket.level = 0.0
        endpoint = PortalEndpoint(state.client_endpoint, f"bench-{time.monotonic()}", RATE, BURST)
        return BitrixClient(endpoint, StaticTokenSource(token), LocalRateLimiter(), timeout=(5, 60))

    rows = []

    def measure(name: str, read) -> None:
        client = fresh_client()
        before = state.stats["rejected_503"]
        started = time.perf_counter()
        users, departments = read(client)
        wall = time.perf_counter() - started
        assert (users, departments) == (args.users, args.departments), (users, departments)
        rows.append((name, client.stats.http_calls, wall, floor_seconds(client.stats.http_calls),
                     state.stats["rejected_503"] - before))

    def batched(client):
        users = sum(1 for _ in client.iter_list("user.get", {"sort": "ID", "order": "ASC"}))
        return users, sum(1 for _ in client.iter_list("department.get"))

    def fast(client):
        users = len(read_lists(client, {"usr": IdWindows(
            "user.get", lambda after: {"sort": "ID", "order": "ASC", "FILTER": {">ID": after}, "start": -1})})["usr"])
        return users, sum(1 for _ in client.iter_list("department.get"))

    def naive(client):
        counts = []
        for method in ("user.get", "department.get"):
            start, seen = 0, 0
            while start is not None:
                answer = client.call_raw(method, {"start": start})
                seen += len(answer["result"])
                start = answer.get("next")
            counts.append(seen)
        return tuple(counts)

    measure("offset pages, 50 per batch call", batched)
    measure("start=-1 ID windows, 50 per batch call", fast)
    if not args.no_naive:
        measure("naive: one HTTP call per page", naive)
    running.shutdown()

    minimum = 1 + math.ceil((math.ceil(args.users / 50) - 1) / 50) + 1 + math.ceil((math.ceil(args.departments / 50) - 1) / 50)
    print(f"Read {args.users:,} users and {args.departments:,} departments; sandbox bucket {RATE:g}/s, burst {BURST}.")
    print(f"Fewest calls the API allows with offset paging: {minimum}\n")
    print("| way | REST calls | wall time | bucket floor | 503s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, calls, wall, floor, rejected in rows:
        print(f"| {name} | {calls} | {wall:.1f} s | {floor:.1f} s | {rejected} |")


if __name__ == "__main__":
    main()
