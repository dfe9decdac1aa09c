"""Password hashing with argon2id (pwdlib's recommended parameters)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

from ..messages import message

MIN_PASSWORD_LENGTH = 8


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one uses outdated parameters)."""
    return _hasher().verify_and_update(password, password_hash)


_DUMMY_HASH: list[str] = []


def burn_time(password: str) -> None:
    """Verify against a dummy hash so an unknown username takes as long as a wrong password."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("not-a-real-password"))
    _hasher().verify(password, _DUMMY_HASH[0])


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return message("password_too_short", length=MIN_PASSWORD_LENGTH)
    if password.isdigit() or password.isalpha():
        return message("password_too_simple")
    return None
