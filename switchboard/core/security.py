"""Password hashing, API key and session token material."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# The test environment trades argon2's cost for speed: hashes carry their parameters, so the
# verification code is the same and production keeps the library's defaults (RFC 9106).
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if os.environ.get("SWITCHBOARD_ENVIRONMENT") == "test"
    else PasswordHasher()
)
API_KEY_PREFIX = "sbk_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend comparable time so a missing user is not told apart by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """Returns (full key shown once, lookup part, hash to store)."""
    lookup = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = f"{API_KEY_PREFIX}{lookup}_{secret}"
    return key, lookup, sha256_hex(key)


def parse_api_key(key: str) -> str | None:
    """Returns the lookup part of a well-formed key, else None."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    lookup, sep, secret = key[len(API_KEY_PREFIX) :].partition("_")
    if not sep or len(lookup) != 12 or not secret:
        return None
    return lookup


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)
