"""argon2id passphrase hashing (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_LENGTH = 8


def hash_passphrase(passphrase: str) -> str:
    return _HASHER.hash(passphrase)


def verify_passphrase(stored_hash: str, passphrase: str) -> bool:
    """True when ``passphrase`` matches. Never raises for a wrong passphrase."""
    try:
        return _HASHER.verify(stored_hash, passphrase)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older parameters and should be renewed."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
