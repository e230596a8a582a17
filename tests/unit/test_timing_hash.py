"""The hash verified for unknown usernames: stored with the hasher's parameters, so no
launch spends a fifth of a second making one; made afresh when the parameters differ."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from anchor_tui.services import auth, passphrase


@pytest.fixture(autouse=True)
def _fresh_dummy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_DUMMY", [])


def test_the_shipped_hasher_verifies_the_stored_hash_without_making_one(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = PasswordHasher()  # the product's parameters (the test process's are cheaper)
    monkeypatch.setattr(passphrase, "_HASHER", shipped)

    def no_hashing(_: str) -> str:
        raise AssertionError("a timing hash was made at launch")

    monkeypatch.setattr(auth, "hash_passphrase", no_hashing)
    assert auth._dummy_hash() == auth.TIMING_HASH
    assert not shipped.check_needs_rehash(auth.TIMING_HASH)  # the same cost as a user's
    assert shipped.type.name == "ID" and auth.TIMING_HASH.startswith("$argon2id$")
    assert not passphrase.verify_passphrase(auth.TIMING_HASH, "any passphrase at all")


def test_other_parameters_make_a_hash_of_their_own() -> None:
    """The test process hashes with cheap parameters (conftest): the stored hash would
    then cost more than a user's, so one is made with the parameters in force."""
    made = auth._dummy_hash()
    assert made != auth.TIMING_HASH
    assert not passphrase.needs_rehash(made)
    assert auth._dummy_hash() is made  # once
