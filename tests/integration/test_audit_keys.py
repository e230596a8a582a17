"""The audit key on SQLite and PostgreSQL: an embedded database makes its own key in the
OS keyring; a shared one never does (its terminals must share the key), so ``audit
key-new`` makes it once and prints it, and ``audit key-set`` stores it on each other
terminal, refusing a key that does not verify the trail. The keyring here is an
in-memory backend; no test touches the OS keyring."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from anchor_tui.cli import main
from anchor_tui.db import models as m
from anchor_tui.services import audit
from anchor_tui.services.audit_chain import (
    _KEYRING_KEYS,
    KEY_ENV,
    AuditKeyError,
    keyring_entry,
    verify,
)
from anchor_tui.services.backend import Backend
from tests.integration.test_audit import Team, backend_for, team
from tests.integration.test_cli import _MemoryKeyring

OTHER_TERMINAL_KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[_MemoryKeyring]:
    import keyring

    monkeypatch.delenv(KEY_ENV)
    previous = keyring.get_keyring()
    ring = _MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def backend(engine: Engine) -> Backend:
    return backend_for(engine)


def _url(backend: Backend) -> str:
    return backend.engine.url.render_as_string(hide_password=False)


def _record(backend: Backend, world: Team) -> None:
    viewer = world.viewers["social"]
    with backend.sessions.write(viewer) as s:
        audit.record(s, viewer, "case.view", object_type="case", object_id=world.case_id)


def _rows(backend: Backend) -> int:
    with backend.sessions.system("test") as s:
        return len(s.scalars(select(m.AuditEvent.id)).all())


def test_only_an_embedded_database_makes_its_own_key(backend: Backend,
                                                     memory_keyring: _MemoryKeyring) -> None:
    world = team(backend)
    entry = ("anchor-tui", keyring_entry(backend.engine.url))
    if backend.engine.dialect.name == "sqlite":
        _record(backend, world)
        assert len(memory_keyring.items[entry]) == 64
        _KEYRING_KEYS.clear()  # as a new process: the key comes from the keyring
        _record(backend, world)
        assert verify(backend).ok and verify(backend).rows == 2
    else:
        with pytest.raises(AuditKeyError) as caught:
            _record(backend, world)
        assert "key-new" in caught.value.fix and "key-set" in caught.value.fix
        assert memory_keyring.items == {} and _rows(backend) == 0


def test_key_new_then_key_set_on_another_terminal(
        backend: Backend, memory_keyring: _MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world = team(backend)
    entry = ("anchor-tui", keyring_entry(backend.engine.url))
    assert main(["audit", "key-new", "--db", _url(backend)]) == 0
    key = memory_keyring.items[entry]
    out = capsys.readouterr().out
    assert key in out and "key-set" in out
    _record(backend, world)
    assert verify(backend).ok
    # Another terminal: its own keyring, empty. A wrong key is refused, the right one kept.
    memory_keyring.items.clear()
    _KEYRING_KEYS.clear()
    monkeypatch.setattr("sys.stdin", io.StringIO(OTHER_TERMINAL_KEY + "\n"))
    assert main(["audit", "key-set", "--key-stdin", "--db", _url(backend)]) == 2
    assert "does not verify" in capsys.readouterr().err and memory_keyring.items == {}
    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))
    assert main(["audit", "key-set", "--key-stdin", "--db", _url(backend)]) == 0
    assert memory_keyring.items[entry] == key
    _record(backend, world)
    assert verify(backend).ok and verify(backend).rows == 2
    # Once the trail has rows, no new key can be made over it.
    assert main(["audit", "key-new", "--db", _url(backend)]) == 2
    assert "already has rows" in capsys.readouterr().err


def test_key_new_without_a_keyring_says_to_set_the_variable(
        backend: Backend, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(KEY_ENV)
    assert main(["audit", "key-new", "--db", _url(backend)]) == 0
    out = capsys.readouterr().out
    key = next(word for word in out.split() if len(word) == 64)
    assert f"set {KEY_ENV}" in out
    monkeypatch.setenv(KEY_ENV, key)
    _record(backend, team(backend))
    assert verify(backend).ok


def test_a_short_key_is_refused_by_key_set(backend: Backend, memory_keyring: _MemoryKeyring,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["audit", "key-set", "--key-stdin", "--db", _url(backend)]) == 2
    assert "shorter than" in capsys.readouterr().err
    assert memory_keyring.items == {}
