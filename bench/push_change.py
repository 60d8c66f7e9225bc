"""Benchmark on the production layout (bench/layout.py), push mode: how long one change made in 1C takes to be
seen in Bitrix24, end to end. The company (20,000 people by default) reaches the app as 1C's extension sends
it, a snapshot in parts to the push API; the first sync follows. Then HR hires someone: the changes package
is posted to the API (gunicorn), processed by a Celery worker, whose run for that person writes to the
sandbox portal; the clock stops when the portal has the new user. Median of `--repeat` hires.
Target: under 10 s at 20,000 people.

usage: .venv/bin/python bench/push_change.py [--people 20000] [--departments 1000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import time
import uuid

import requests

from layout import TODAY, Layout, costs_line, median

RATE, BURST = 2.0, 50


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--departments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parts", type=int, default=4)
    args = parser.parse_args()

    layout = Layout(env={"HRSYNC_SYNC_AFTER_PACKAGE": "1"})
    from payroll_connector.models import PayrollPackage
    from payroll_connector.services import connect_push
    from sandbox.zup.generator import generate_company
    from sandbox.zup.push import changes_package, post_package, snapshot_packages, snapshot_records

    seen: list[float] = []
    runs = []
    try:
        layout.workers(1)
        app = layout.web()
        [sandbox] = layout.portals(1, rate=RATE, burst=BURST)
        portal = layout.portal_row(sandbox, odata_url="http://127.0.0.1:9/unused/", rate=RATE, burst=BURST)
        _connection, key = connect_push(portal)
        base = generate_company(seed=1, size=args.people, today=TODAY, departments=args.departments)
        before = layout.last_run_id()
        started = time.time()
        for package in snapshot_packages(base, parts=args.parts):
            post_package(app, key, package).raise_for_status()
        first = layout.finished(portal, after_run=before)
        snapshot_seconds = first.finished_at.timestamp() - started
        assert first.status == "succeeded", (first.status, first.error)
        records = snapshot_records(base)
        employment = next(e for e in records["employments"] if not e["termination_date"])
        for _ in range(args.repeat):
            person = {**records["persons"][0], "guid": str(uuid.uuid4()), "last_name": "Новикова", "first_name": "Алла",
                      "email": f"novikova.{uuid.uuid4().hex[:8]}@example.ru"}
            job = {**employment, "guid": str(uuid.uuid4()), "person_guid": person["guid"], "hire_date": TODAY.isoformat()}
            before = layout.last_run_id()
            sent = time.time()
            post_package(app, key, changes_package([{"op": "hire", "person": person, "employment": job}])).raise_for_status()
            while not requests.get(f"{sandbox.url}/_sandbox/users", params={"email": person["email"]}, timeout=30).json()["users"]:
                if time.time() - sent > 300:
                    raise TimeoutError("the hire never reached the portal")
                time.sleep(0.05)
            seen.append(time.time() - sent)
            runs.append(layout.finished(portal, after_run=before))
        processed = PayrollPackage.objects.filter(kind="changes").order_by("-pk").first()
    finally:
        layout.close()

    middle = sorted(zip(seen, runs), key=lambda pair: pair[0])[len(seen) // 2][1]
    print(f"Production layout, push mode: gunicorn, 1 Celery worker, PostgreSQL, Redis, the sandbox portal in its own "
          f"process ({RATE:g} requests/s, burst {BURST}). {args.people:,} people, {args.departments:,} departments.\n")
    print("| step | time |")
    print("| --- | ---: |")
    print(f"| snapshot ({args.parts} packages) posted → first sync done | {snapshot_seconds:.1f} s |")
    print(f"| one hire posted → the user in Bitrix24 (median of {len(seen)}; all: "
          f"{', '.join(f'{s:.2f}' for s in seen)} s) | **{median(seen):.2f} s** |")
    print(f"\nThe hire's run: scope {len(middle.scope or [])} person(s), {sum(middle.planned.values())} operation(s), "
          f"{middle.rest_calls} REST calls; {costs_line(middle)}. Package processing: "
          f"{processed.results['summary'].get('changes_applied')} change(s) applied.")


if __name__ == "__main__":
    main()
