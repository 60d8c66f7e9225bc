"""The README's demo command works (in its --smoke form, on ports of its own)."""
import os
import re
import socket
import subprocess

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_installs_the_app_into_the_sandbox_portal(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    env.update(DEMO_APP_PORT=str(_free_port()), DEMO_PORTAL_PORT=str(_free_port()), DEMO_OAUTH_PORT=str(_free_port()),
               DEMO_ZUP_PORT=str(_free_port()),
               DEMO_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    result = subprocess.run([str(ROOT / "scripts" / "demo.sh"), "--smoke"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "installed        True; events bound: ONAPPINSTALL, ONAPPUNINSTALL" in result.stdout
    assert "every entity set the sync needs can be read" in result.stdout
    assert "persons: 300" in result.stdout and "[blocked] persons" in result.stdout
    # The console speaks the people's language too: kinds and statuses by name, never as codes.
    assert "Запуск 1: Выполнено; запланировано: Создание подразделения: " in result.stdout
    assert "ошибок 0" in result.stdout and "CreateUser" not in result.stdout and "planned {" not in result.stdout
    assert "Создание сотрудника" in result.stdout and "Добавление отсутствия" in result.stdout
    # HR's change in the sandbox ZUP, then a run queued to the demo's worker (no Redis: a folder broker).
    assert "Changed in the sandbox ZUP: Принят(а) " in result.stdout
    assert re.search(r"The worker's run: 2 Выполнено Создание сотрудника: 1", result.stdout), result.stdout[-2000:]
    assert not (ROOT / "control").exists()  # the folder broker keeps all its files under var/
    keys = ROOT / "var" / "demo-keys.json"  # the demo's own keys, never the public debug one
    assert keys.exists() and oct(keys.stat().st_mode & 0o777) == "0o600"
