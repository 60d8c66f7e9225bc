"""Benchmark on the production layout (bench/layout.py): the initial sync of a generated company, a
no-change run and a one-change run (HR hires someone in ZUP; the run a pushed package would start), through
a Celery worker, against a sandbox portal with the cloud's limits (2 requests/s, burst 50).

Printed per run: the REST calls beside the minimum, computed from the operations and not from the app's
batching (operations ÷ 50, plus the reads the portal's size needs); the wall time from enqueueing to the end
beside the bucket's floor; the naive way (one call per operation, no burst) on the same operation mix; and
where the app's own time went (CPU, SQL, REST round trips, waits), as the worker measured it.
Median of `--repeat` runs, each on a fresh portal and ZUP.

usage: .venv/bin/python bench/scale.py [--people 5000] [--departments 300] [--repeat 3]
"""
from __future__ import annotations

import argparse
import math
import re
import time

from urllib.parse import urlsplit

import requests

from layout import Layout, bucket_floor, costs_line, median

RATE, BURST = 2.0, 50


def read_calls(users: int, departments: int) -> int:
    """Reading the portal: its users and departments in pages of 50, 50 pages a call."""
    return max(1, math.ceil((math.ceil(users / 50) + math.ceil(departments / 50)) / 50))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    layout = Layout()
    rows: dict[str, list[dict]] = {"initial": [], "no-change": [], "one-change": []}
    try:
        layout.workers(1)
        for _ in range(args.repeat):
            zup = layout.zup(size=args.people, departments=args.departments)
            [sandbox] = layout.portals(1, rate=RATE, burst=BURST)
            portal = layout.portal_row(sandbox, odata_url=zup, rate=RATE, burst=BURST)
            run, wall = layout.sync(portal)
            assert run.status == "succeeded", (run.status, run.error)
            ops = sum(run.planned.values())
            rows["initial"].append({"run": run, "wall": wall, "ops": ops, "minimum": math.ceil(ops / 50) + 1})
            state = requests.get(f"{sandbox.url}/_sandbox/state", timeout=60).json()
            users, departments = state["users"], state["departments"]
            run, wall = layout.sync(portal)
            rows["no-change"].append({"run": run, "wall": wall, "ops": sum(run.planned.values()),
                                      "minimum": read_calls(users, departments)})
            done = requests.post("http://" + urlsplit(zup).netloc + "/_sandbox/change", json={"kind": "hire"}, timeout=60).json()["done"]
            email = re.search(r"e-mail (\S+)", done).group(1)
            run, wall = layout.sync(portal, "push")
            seen = requests.get(f"{sandbox.url}/_sandbox/users", params={"email": email}, timeout=30).json()["users"]
            assert seen and seen[0]["ACTIVE"], f"the hire did not reach the portal: {done} {run.planned} {run.outcome} {run.notices[-3:]}"
            rows["one-change"].append({"run": run, "wall": wall, "ops": sum(run.planned.values()),
                                       "minimum": read_calls(users, departments) + 1})
            assert all(r["run"].status == "succeeded" for rs in rows.values() for r in rs[-1:]), \
                [(k, rs[-1]["run"].status, rs[-1]["run"].error) for k, rs in rows.items()]
    finally:
        layout.close()

    print(f"Production layout: PostgreSQL, Redis, 1 Celery worker; sandbox portal and ZUP in their own processes. "
          f"{args.people:,} people, {args.departments:,} departments (seed 1); {RATE:g} requests/s, burst {BURST}; "
          f"median of {args.repeat}.\n")
    print("| run | operations | REST calls | minimum | wall time (enqueue → end) | bucket floor | naive calls | naive floor |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, runs in rows.items():
        ops = int(median([r["ops"] for r in runs]))
        calls = int(median([r["run"].rest_calls for r in runs]))
        minimum = int(median([r["minimum"] for r in runs]))
        # The naive way: one call per operation and per page read (50 records), and no burst.
        naive = ops + (1 if name == "initial" else math.ceil((args.people + args.departments) / 50))
        print(f"| {name} | {ops:,} | {calls} | {minimum} | {median([r['wall'] for r in runs]):.1f} s | "
              f"{bucket_floor(calls, RATE, BURST):.1f} s | {naive:,} | {naive / RATE:.0f} s |")
    print()
    for name, runs in rows.items():
        middle = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
        print(f"- {name}: {costs_line(middle['run'])}")


if __name__ == "__main__":
    main()
