"""Benchmark on the production layout (bench/layout.py): many portals at once. 1, 10 and 50 sandbox portals of
1,000 people each start their first sync together, on 2 and on 4 Celery worker processes (prefork).

A 1,000-person first sync is about 27 calls: it fits in one portal's burst, so its bucket floor is 0 and what
a portal waits for is the app's own work and the queue. Printed per case: the total throughput (operations
written per second, all portals), each portal's time in the queue and running (median and worst), and the
running time beside that of one portal alone (the same workers): a worker that slept on one portal's bucket
while others waited would show as running time growing with the number of portals.

usage: .venv/bin/python bench/portals.py [--portals 1,10,50] [--workers 2,4] [--people 1000]
"""
from __future__ import annotations

import argparse

from layout import Layout, median

RATE, BURST = 2.0, 50


def case(portals: int, workers: int, people: int) -> dict:
    layout = Layout()
    try:
        layout.workers(workers)
        zup = layout.zup(size=people, departments=max(10, people // 20))
        sandboxes = layout.portals(portals, rate=RATE, burst=BURST)
        rows = [layout.portal_row(s, odata_url=zup, rate=RATE, burst=BURST) for s in sandboxes]
        before = layout.last_run_id()
        enqueued = {row.pk: layout.enqueue(row)[1] for row in rows}
        runs = [layout.finished(row, after_run=before) for row in rows]
    finally:
        layout.close()
    assert all(r.status == "succeeded" for r in runs), [(r.status, r.error) for r in runs]
    queued = [r.started_at.timestamp() - enqueued[r.portal_id] for r in runs]
    running = [(r.finished_at - r.started_at).total_seconds() for r in runs]
    total = max(r.finished_at.timestamp() for r in runs) - min(enqueued.values())
    ops = sum(r.outcome["done"] for r in runs)
    return {"portals": portals, "workers": workers, "total": total, "ops": ops, "queued": queued, "running": running,
            "calls": median([r.rest_calls for r in runs])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--portals", default="1,10,50")
    parser.add_argument("--workers", default="2,4")
    parser.add_argument("--people", type=int, default=1000)
    args = parser.parse_args()
    results = [case(p, w, args.people) for w in map(int, args.workers.split(",")) for p in map(int, args.portals.split(","))]
    alone = {r["workers"]: median(r["running"]) for r in results if r["portals"] == 1}
    print(f"Production layout: PostgreSQL, Redis, Celery prefork workers; the sandbox portals in one process of their "
          f"own, one sandbox ZUP ({args.people:,} people) in another. Each portal {RATE:g} requests/s, burst {BURST}.\n")
    print("| portals | workers | all done in | operations/s | REST calls per portal | queued (median / worst) "
          "| running (median / worst) | running ÷ one portal alone |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['portals']} | {r['workers']} | {r['total']:.1f} s | {r['ops'] / r['total']:.0f} | {r['calls']:.0f} | "
              f"{median(r['queued']):.1f} / {max(r['queued']):.1f} s | {median(r['running']):.1f} / {max(r['running']):.1f} s | "
              f"{median(r['running']) / alone.get(r['workers'], float('nan')):.2f} |")


if __name__ == "__main__":
    main()
