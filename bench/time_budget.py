"""Benchmark on the production layout (bench/layout.py): a first sync that Bitrix24's time budget per method
holds back. `user.add` takes a configured 50 ms of server time: 20,000 people are 1,000 s of it, against a
budget of 480 s per method per 10 minutes (limits.md), so the run must wait for the portal's windows.

The whole clock is scaled by `--time-scale` (default 10): the window, the budget, the ban, each call's server
time and the request bucket's rate all together, so the run shows in minutes what takes the portal an hour;
`--time-scale 1` is the real thing. Floors, in the scaled clock: the bucket's, (calls − 50) ÷ rate; the
budget's, the least time to spend the `user.add` seconds at one call after another under a rolling window
(bench/layout.py budget_floor). Target: 0 failed operations, within 1.2 × the larger floor.

usage: .venv/bin/python bench/time_budget.py [--people 20000] [--departments 1000] [--time-scale 10]
"""
from __future__ import annotations

import argparse

import requests

from layout import Layout, bucket_floor, budget_floor, costs_line

USER_ADD_SECONDS, LIMIT, WINDOW, BAN, RATE, BURST = 0.05, 480.0, 600.0, 300.0, 2.0, 50


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--departments", type=int, default=1000)
    parser.add_argument("--time-scale", type=float, default=10.0)
    args = parser.parse_args()
    k = args.time_scale
    rate, limit, window, ban, per_call = RATE * k, LIMIT / k, WINDOW / k, BAN / k, USER_ADD_SECONDS / k

    layout = Layout(env={"BITRIX_OPERATING_LIMIT": str(limit), "BITRIX_OPERATING_MARGIN": str(10.0 / k),
                         "BITRIX_OPERATING_WINDOW": str(window), "BITRIX_OPERATING_BAN": str(ban),
                         "BITRIX_MAX_OPERATING_WAIT": str(10.0 / k)})
    try:
        layout.workers(1)
        zup = layout.zup(size=args.people, departments=args.departments)
        [sandbox] = layout.portals(1, rate=rate, burst=BURST)
        requests.post(f"{sandbox.url}/_sandbox/limits", json={
            "operating": {"limit": limit, "bucket_seconds": 60.0 / k, "ban_seconds": ban},
            "server_time": {"user.add": per_call}}, timeout=30).raise_for_status()
        portal = layout.portal_row(sandbox, odata_url=zup, rate=rate, burst=BURST)
        run, wall = layout.sync(portal)
        stats = requests.get(f"{sandbox.url}/_sandbox/state", timeout=60).json()["stats"]
    finally:
        layout.close()

    created = run.planned.get("CreateUser", 0)
    floors = {"bucket": bucket_floor(run.rest_calls, rate, BURST),
              "time budget": budget_floor(created * per_call, limit, window)}
    binding = max(floors, key=floors.get)
    print(f"Production layout, 1 Celery worker. {args.people:,} people, {args.departments:,} departments; user.add "
          f"{USER_ADD_SECONDS * 1000:.0f} ms of server time; budget {LIMIT:.0f} s per method per {WINDOW / 60:.0f} min, "
          f"ban {BAN:.0f} s; {RATE:g} requests/s, burst {BURST}. Clock scaled 1:{k:g} (times below are scaled).\n")
    print("| operations | failed | REST calls | 429 answers | pauses | wall time | bucket floor | time-budget floor | wall ÷ floor |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {sum(run.planned.values()):,} | {run.outcome.get('failed', 0)} | {run.rest_calls} | "
          f"{stats.get('rejected_429', 0)} | {run.segments - 1} | {wall:.1f} s | {floors['bucket']:.1f} s | "
          f"{floors['time budget']:.1f} s | {wall / floors[binding]:.2f} ({binding}) |")
    print(f"\nStatus {run.status}; {costs_line(run)}.")


if __name__ == "__main__":
    main()
