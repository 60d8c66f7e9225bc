"""Secrets at rest and in logs, the error tree, and production settings."""
import logging
import os
import subprocess

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from bitrix_app.client import errors
from bitrix_app.models import Portal
from hrsync import crypto
from hrsync.logging import MaskSecretsFilter, mask_secrets
from tests.conftest import PYTHON, ROOT


def test_mask_secrets_in_urls_json_and_reprs():
    text = ('GET /oauth/token/?grant_type=refresh_token&client_secret=SECRET1&refresh_token=R2 '
            '{"auth": "A3", "access_token": "A4"} {\'password\': \'P5\'} AUTH_ID=A6&REFRESH_ID=R7')
    masked = mask_secrets(text)
    for secret in ("SECRET1", "R2", "A3", "A4", "P5", "A6", "R7"):
        assert secret not in masked
    assert "grant_type=refresh_token" in masked


def test_log_filter_masks_arguments():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "calling %s", ("profile?auth=TOPSECRET",), None)
    MaskSecretsFilter().filter(record)
    assert "TOPSECRET" not in record.getMessage()


def test_error_tree_is_chosen_by_remote_code():
    cases = {
        ("expired_token", 401): errors.BitrixTokenExpired,
        ("NO_AUTH_FOUND", 401): errors.BitrixInvalidToken,
        ("QUERY_LIMIT_EXCEEDED", 503): errors.BitrixRateLimited,
        ("OPERATION_TIME_LIMIT", 429): errors.BitrixOperationTimeLimit,
        ("insufficient_scope", 403): errors.BitrixInsufficientScope,
        ("ACCESS_DENIED", 403): errors.BitrixAccessDenied,
        ("PORTAL_DELETED", 500): errors.BitrixPortalDeleted,
        ("ERROR_CORE", 400): errors.BitrixMethodError,
        ("ERROR_METHOD_NOT_FOUND", 404): errors.BitrixMethodNotFound,
        ("invalid_grant", 400): errors.BitrixReauthRequired,
        ("SOMETHING_NEW", 502): errors.BitrixServerError,
        ("", 400): errors.BitrixMethodError,
    }
    for (code, status), expected in cases.items():
        error = errors.BitrixError.from_payload({"error": code, "error_description": "d"}, http_status=status, method="m")
        assert type(error) is expected, code
        assert error.message.startswith("m: ")
    assert errors.BitrixRateLimited().transient and not errors.BitrixMethodError().transient


def test_key_rotation_reencrypts_every_token(installed, settings):
    sandbox, portal = installed
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys", stdout=open(os.devnull, "w"))
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: everything must still decrypt
    stored = Portal.objects.get(pk=portal.pk)
    assert stored.access_token == portal.access_token and stored.refresh_token == portal.refresh_token
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM bitrix_app_portal WHERE id=%s", [portal.pk])
        raw = cursor.fetchone()[0]
    assert Fernet(new_key.encode()).decrypt(raw.encode()).decode() == portal.access_token


def test_secret_hash_comparison():
    stored = crypto.hash_secret("app-token")
    assert crypto.secret_matches("app-token", stored)
    assert not crypto.secret_matches("app-tokeN", stored)
    assert not crypto.secret_matches("", stored)


def test_check_deploy_passes_with_production_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "BITRIX_ALLOW"))}
    env.update(DJANGO_SETTINGS_MODULE="hrsync.settings", DJANGO_DEBUG="0", HRSYNC_ENV_FILE="/nonexistent",
               DJANGO_SECRET_KEY="prod-" + "k3y-" * 16, FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
               ALLOWED_HOSTS="hrsync.example.com", APP_BASE_URL="https://hrsync.example.com",
               DATABASE_URL="sqlite:////tmp/hrsync-deploy-check.sqlite3")
    result = subprocess.run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    env.update(DJANGO_SETTINGS_MODULE="hrsync.settings", DJANGO_DEBUG="0", HRSYNC_ENV_FILE="/nonexistent")
    result = subprocess.run([PYTHON, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_models_and_migrations_agree(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())  # exits non-zero when one is missing
