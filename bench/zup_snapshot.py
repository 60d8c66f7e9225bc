"""Benchmark: read and build the snapshot of a generated 20,000-employee company, by OData and by push.

Each way runs in a fresh process, so its peak memory (ru_maxrss) is its own; the sandbox ZUP runs
in another process, for the same company and the same day as the push side. Push goes through the app's own
path (schema validation, storing the package, processing it into the source state, building the snapshot) on
a PostgreSQL database of its own.
Target: under 30 s and under 500 MB each.

usage: .venv/bin/python bench/zup_snapshot.py [--size 20000] [--parts 1]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 25)
PG = os.environ.get("BENCH_PG", "postgres://hrsync:hrsync@127.0.0.1:5432")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _django(database: str) -> None:
    """PostgreSQL, as in production (a database of the benchmark's own, made afresh); DEBUG off: Django's
    debug mode keeps every SQL statement (17 MB packages included)."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    os.environ.update(DJANGO_SETTINGS_MODULE="hrsync.settings", DJANGO_DEBUG="0", HRSYNC_ENV_FILE="/nonexistent",
                      DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                      FIELD_ENCRYPTION_KEY="oMAC7Pjeg-NWif-Zpb7TlgkdDUkk8qklMLi1r9dES9E=",
                      DATABASE_URL=f"{PG}/{database}", REDIS_URL="", CELERY_BROKER_URL="", LOG_LEVEL="WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _portal():
    from bitrix_app.models import Portal

    return Portal.objects.create(member_id="bench", domain="bench.example", client_endpoint="https://bench.example/rest/",
                                 server_endpoint="https://oauth.bitrix.info/rest/", status="active", refresh_token="x")


def run_odata(url: str, db_path: str) -> dict:
    _django(db_path)
    from payroll_connector.services import connect_odata, read_snapshot

    connection = connect_odata(_portal(), url=url, username="odata", password="secret")
    started = time.perf_counter()
    snapshot = read_snapshot(connection, today=TODAY)
    return {"seconds": time.perf_counter() - started, "persons": len(snapshot.persons),
            "absences": len(snapshot.absences), "problems": len(snapshot.problems)}


def run_push(packages_dir: str, db_path: str) -> dict:
    _django(db_path)
    from payroll_connector.services import connect_push, process_package, read_snapshot, receive_package

    connection, _ = connect_push(_portal())
    files = sorted(Path(packages_dir).glob("*.json"))
    started = time.perf_counter()
    for path in files:  # what the API view and its task do with the body
        package, created = receive_package(connection, path.read_bytes())
        if created:
            process_package(package.pk)
    snapshot = read_snapshot(connection, today=TODAY)
    seconds = time.perf_counter() - started
    change = _one_change(connection, snapshot)
    return {"seconds": seconds, "persons": len(snapshot.persons), "absences": len(snapshot.absences),
            "problems": len(snapshot.problems), "bytes": sum(p.stat().st_size for p in files), **change}


def _one_change(connection, snapshot) -> dict:
    """One transfer pushed after the snapshot: its processing time and SQL statements (change-sized work)."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from payroll_connector.services import process_package, receive_package
    from sandbox.zup.push import changes_package

    person = next(p for p in snapshot.persons if p.employments)
    job = person.employments[0]
    employment = {"guid": job.guid, "person_guid": person.guid, "organisation_guid": job.organisation_guid,
                  "department_guid": job.department_guid, "position_guid": snapshot.positions[-1].guid,
                  "hire_date": job.hire_date.isoformat(), "kind": job.kind.value}
    from hrsync.celery import app

    # The sync a processed package starts is queued (in memory), not run: the change's own cost is measured.
    app.conf.update(task_always_eager=False)
    package, _ = receive_package(connection, json.dumps(changes_package([{"op": "transfer", "employment": employment}])).encode())
    started = time.perf_counter()
    with CaptureQueriesContext(db) as queries:
        process_package(package.pk)
    return {"change_seconds": time.perf_counter() - started, "change_sql": len(queries.captured_queries)}


def child(kind: str, arg: str, db_path: str) -> None:
    result = run_odata(arg, db_path) if kind == "odata" else run_push(arg, db_path)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--parts", type=int, default=1)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    sys.path.insert(0, str(ROOT))
    from sandbox.zup.generator import generate_company
    from sandbox.zup.push import snapshot_packages

    port = _free_port()
    # Both ways build the same company for the same day: the sandbox ZUP's today is the push side's.
    zup = subprocess.Popen([sys.executable, "-m", "sandbox.zup", "--port", str(port), "--size", str(args.size),
                            "--today", TODAY.isoformat()], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    zup.stdout.readline()  # "Sandbox ZUP: …" once it listens
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = generate_company(seed=1, size=args.size, today=TODAY)
        for i, package in enumerate(snapshot_packages(base, parts=args.parts)):
            Path(tmp, f"{i:04d}.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
        try:
            for kind, arg in (("odata", f"http://127.0.0.1:{port}/zup/odata/standard.odata/"), ("push", tmp)):
                out = subprocess.run([sys.executable, __file__, "--child", kind, arg, f"hrsync_bench_{kind}"],
                                     cwd=ROOT, capture_output=True, text=True, check=True)
                rows.append((kind, json.loads(out.stdout.strip().splitlines()[-1])))
        finally:
            zup.terminate()
    print(f"Snapshot of a generated company of {args.size:,} employees (seed 1), push in {args.parts} part(s).\n")
    print("| way | wall time | peak memory | persons | absences | problems reported |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind, r in rows:
        name = "OData pull (HTTP to the sandbox ZUP)" if kind == "odata" else f"push ({r['bytes'] / 1e6:.1f} MB of JSON)"
        print(f"| {name} | {r['seconds']:.1f} s | {r['peak_mb']:.0f} MB | {r['persons']:,} | {r['absences']:,} | {r['problems']:,} |")
    push = dict(rows)["push"]
    print(f"\nOne pushed change (a transfer) after that snapshot: {push['change_seconds'] * 1000:.0f} ms, "
          f"{push['change_sql']} SQL statements.")


if __name__ == "__main__":
    main()
