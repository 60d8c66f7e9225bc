"""The demo: start the sandbox Bitrix24 portal and the app (SQLite, no Redis), install the app, show it.

Run through scripts/demo.sh (or `make demo`), which prepares the virtualenv first.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def wait_for(url: str, what: str, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start at {url}")


def _demo_keys() -> dict[str, str]:
    """The demo's own secret and encryption keys, made once on this machine (var/demo-keys.json, mode 600):
    never the public debug key, never one shared between installations."""
    import json
    import secrets

    from cryptography.fernet import Fernet

    path = ROOT / "var" / "demo-keys.json"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps({"DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                                    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode()}))
    return json.loads(path.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app-port", type=int, default=int(os.environ.get("DEMO_APP_PORT", 8000)))
    parser.add_argument("--portal-port", type=int, default=int(os.environ.get("DEMO_PORTAL_PORT", 8101)))
    parser.add_argument("--oauth-port", type=int, default=int(os.environ.get("DEMO_OAUTH_PORT", 8102)))
    parser.add_argument("--zup-port", type=int, default=int(os.environ.get("DEMO_ZUP_PORT", 8201)))
    parser.add_argument("--size", type=int, default=int(os.environ.get("DEMO_COMPANY_SIZE", 300)),
                        help="employees of the generated company in the sandbox ZUP")
    parser.add_argument("--smoke", action="store_true", help="install, print what happened, stop")
    args = parser.parse_args()

    app_url = f"http://127.0.0.1:{args.app_port}"
    portal_url = f"http://127.0.0.1:{args.portal_port}"
    zup_url = f"http://127.0.0.1:{args.zup_port}"
    (ROOT / "var").mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="hrsync.settings",
        DJANGO_DEBUG="1",
        DATABASE_URL=env.get("DEMO_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'demo.sqlite3'}"),
        REDIS_URL="",  # no Redis: the rate limiter is per process
        # A broker without a server (files in a folder): the demo's worker runs the page's tasks, so a run's
        # progress can be watched as in production.
        CELERY_FILESYSTEM_BROKER_DIR=str(ROOT / "var" / "demo-broker"),
        APP_BASE_URL=app_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BITRIX_CLIENT_ID="local.hrsync.sandbox",
        BITRIX_CLIENT_SECRET="sandbox-secret",
        BITRIX_OAUTH_SERVER_HOSTS=f"127.0.0.1:{args.oauth_port}",
        BITRIX_ALLOW_HTTP="1",
        BITRIX_JS_SDK_URL=f"{portal_url}/bx24/api/v1/",
        HRSYNC_ENV_FILE="/nonexistent",
        **_demo_keys(),
    )
    # The sandbox portal lives in memory and starts empty, so the demo's database starts empty too.
    database = ROOT / "var" / "demo.sqlite3"
    if "DEMO_DATABASE_URL" not in os.environ and database.exists():
        database.unlink()
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    broker = ROOT / "var" / "demo-broker"
    shutil.rmtree(broker, ignore_errors=True)  # no task left over from an earlier demo
    broker.mkdir(parents=True)

    children = [
        subprocess.Popen([PYTHON, "-m", "sandbox.bitrix24", "--port", str(args.portal_port), "--oauth-port",
                          str(args.oauth_port), "--app-url", f"{app_url}/bitrix/app/", "--install-url",
                          f"{app_url}/bitrix/install/", "--member-id", "demo-portal"], cwd=ROOT, env=env),
        subprocess.Popen([PYTHON, "manage.py", "runserver", f"127.0.0.1:{args.app_port}", "--noreload"], cwd=ROOT, env=env),
        subprocess.Popen([PYTHON, "-m", "sandbox.zup", "--port", str(args.zup_port), "--size", str(args.size)],
                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL),
        subprocess.Popen([PYTHON, "-m", "celery", "-A", "hrsync", "worker", "--pool=solo", "--loglevel=WARNING",
                          "--without-gossip", "--without-mingle", "--without-heartbeat"], cwd=ROOT, env=env),
    ]
    try:
        wait_for(f"{portal_url}/_sandbox/state", "The sandbox portal")
        wait_for(f"{app_url}/health/", "The app")
        wait_for(f"{zup_url}/_sandbox/state", "The sandbox ZUP")
        installed = requests.post(f"{portal_url}/_sandbox/install", json={}, timeout=60).json()
        if installed["status"] != 200:
            print(installed["body"], file=sys.stderr)
            return 1
        requests.post(f"{portal_url}/_sandbox/install-finish", timeout=60).raise_for_status()
        state = requests.get(f"{portal_url}/_sandbox/state", timeout=10).json()
        manage = [PYTHON, "manage.py"]
        domain = state["domain"]
        subprocess.run(manage + ["payroll_connect", "--portal", domain, "--odata-url",
                                 f"{zup_url}/zup/odata/standard.odata/", "--username", "odata", "--password", "secret"],
                       cwd=ROOT, env=env, check=True)
        snapshot = subprocess.run(manage + ["payroll_snapshot", "--portal", domain, "--problems", "8"], cwd=ROOT,
                                  env=env, check=True, capture_output=True, text=True).stdout
        print()
        print("hrsync demo")
        print(f"  sandbox portal   {portal_url}  (member_id {state['member_id']})")
        print(f"  app              {app_url}")
        print(f"  sandbox ZUP      {zup_url}/zup/odata/standard.odata/  (user odata, password secret)")
        print(f"  installed        {state['app_installed']}; events bound: "
              f"{', '.join(b['event'] for b in state['event_bindings'])}")
        print()
        print("What hrsync reads from the sandbox ZUP:")
        print(snapshot)
        if args.smoke:
            return _smoke(manage, domain, zup_url, env, state)
        print(f"Open {portal_url}/marketplace/app/ in a browser: the portal's frame with the app inside.")
        print("Nothing is synced yet: «Предпросмотр и запуск» shows the plan, «Запустить сейчас» runs it in the demo's")
        print("worker and the page follows its progress. Then change something in the sandbox ZUP, as HR would:")
        print(f"  {PYTHON} -m sandbox.zup.change hire        # also: transfer, vacation, dismiss (--url {zup_url})")
        print("and preview and run again. (As a non-admin colleague: "
              f"{portal_url}/marketplace/app/?user_id=2 after adding one.)")
        print("Ctrl-C stops the demo.")
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return 0
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def _smoke(manage: list[str], domain: str, zup_url: str, env: dict, state: dict) -> int:
    """Print and exit: the first sync, a change made in the sandbox ZUP, and a second sync run by the worker."""
    first = subprocess.run(manage + ["sync_portal", "--portal", domain], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True).stdout
    print("The first sync, ZUP -> the sandbox portal (the first 50 operations; the app page and")
    print("`manage.py sync_portal --portal ... --json` show all of them):")
    print(first)
    change = subprocess.run([PYTHON, "-m", "sandbox.zup.change", "hire", "--url", zup_url], cwd=ROOT, env=env,
                            check=True, capture_output=True, text=True).stdout.strip()
    print(f"Changed in the sandbox ZUP: {change}")
    queue = ("from bitrix_app.models import Portal; from hrsync.tasks import sync_portal; "
             f"sync_portal.delay(Portal.objects.get(domain={domain!r}).pk, 'manual')")
    subprocess.run(manage + ["shell", "-v", "0", "-c", queue], cwd=ROOT, env=env, check=True)
    latest = ("from django.utils import translation; from hrsync.models import SyncRun; "
              "from hrsync.texts import operation_text; translation.activate('ru'); "
              "r = SyncRun.objects.filter(dry_run=False).order_by('-pk').first(); "
              "print(r.pk, r.get_status_display() if r.finished_at else 'running', "
              "', '.join(f'{operation_text(k)}: {n}' for k, n in r.planned.items()))")
    deadline = time.time() + 90
    while time.time() < deadline:
        shown = subprocess.run(manage + ["shell", "-v", "0", "-c", latest], cwd=ROOT, env=env, check=True,
                               capture_output=True, text=True).stdout.strip()
        if shown.startswith("2 ") and "running" not in shown:
            print(f"The worker's run: {shown}")
            return 0 if state["app_installed"] and len(state["event_bindings"]) == 2 else 1
        time.sleep(1)
    print(f"The worker did not finish the second run in time: {shown}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
