"""Settings for the test suite: production-like (DEBUG off), PostgreSQL and Redis on loopback.

The variables can be overridden from the environment (scripts/test.sh and CI set them).
"""
import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "oMAC7Pjeg-NWif-Zpb7TlgkdDUkk8qklMLi1r9dES9E=")
os.environ.setdefault("DATABASE_URL", "postgres://hrsync:hrsync@127.0.0.1:5432/hrsync")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("BITRIX_CLIENT_ID", "local.hrsync.sandbox")
os.environ.setdefault("BITRIX_CLIENT_SECRET", "sandbox-secret")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")
os.environ.setdefault("BITRIX_ALLOW_HTTP", "1")  # the sandbox speaks plain http on loopback
os.environ.setdefault("HRSYNC_ENV_FILE", "/nonexistent")
os.environ.setdefault("HRSYNC_SYNC_AFTER_PACKAGE", "0")
os.environ.setdefault("HRSYNC_LEASE_TTL", "3")  # a killed worker's portal frees quickly
os.environ.setdefault("HRSYNC_RESUME_SECONDS", "2")
os.environ.setdefault("HRSYNC_STATIC_MANIFEST", "0")  # no collectstatic before the suite; tests/test_production.py runs it

from hrsync.settings import *  # noqa: E402,F401,F403

# Short timeouts keep fault-injection tests quick; the product's defaults are in hrsync/settings.py.
BITRIX_HTTP_TIMEOUT = float(os.environ.get("TEST_BITRIX_HTTP_TIMEOUT", "2.0"))  # a fault test raises it
BITRIX_HTTP_CONNECT_TIMEOUT = 2.0
BITRIX_MAX_OPERATING_WAIT = float(os.environ.get("BITRIX_MAX_OPERATING_WAIT", "5.0"))
BITRIX_OPERATING_BAN = float(os.environ.get("BITRIX_OPERATING_BAN", "2.0"))  # the sandboxes of the time-budget tests ban for 2 s, not 300
