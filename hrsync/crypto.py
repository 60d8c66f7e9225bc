"""Encryption at rest for secrets (OAuth tokens, 1C passwords): Fernet with key rotation."""
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        # Never derived from SECRET_KEY: the debug one is public. Production refuses to start without a
        # key (settings); a debug process that stores a secret must be given one (the demo makes its own).
        raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEY (a Fernet key) to store secrets")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEY") from exc


def rotate(token: str) -> str:
    """Re-encrypt under the first key (MultiFernet.rotate)."""
    return fernet().rotate(token.encode()).decode()


def hash_secret(value: str) -> str:
    """One-way hash for secrets we only ever compare (application_token, push keys).

    The values are long random strings chosen by the other side, so a plain SHA-256 cannot be reversed
    by guessing; it is deliberately not keyed with SECRET_KEY, whose rotation would lock every portal out.
    """
    return hashlib.sha256(value.encode()).hexdigest()


def secret_matches(value: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with its stored hash."""
    if not value or not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(value), stored_hash)


class EncryptedTextField(models.TextField):
    """A text column that holds Fernet ciphertext; Python code sees the plain value."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
