"""The `smartcity` commands of the security pillar, run through the real entry point."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from smartcity import cli
from smartcity.hub.store import open_store
from smartcity.security.audit import list_records, verify
from smartcity.security.bootstrap import ensure_administrator
from smartcity.security.credentials import Credentials
from smartcity.security.roles import Role
from smartcity.settings import Settings


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


def test_user_and_key_commands_are_audited_and_the_trail_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _db(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["user", "add", "thao", "--role", "ioc_operator", "--password-stdin", "--database", url]) == 0
    assert cli.main(["apikey", "create", "--name", "gauge-7", "--role", "device", "--database", url]) == 0
    printed = capsys.readouterr().out
    key = next(word for word in printed.split() if word.startswith("scak_"))
    assert cli.main(["user", "set-role", "thao", "analyst", "--database", url]) == 0
    assert cli.main(["user", "add", "x", "--role", "nope", "--password-stdin", "--database", url]) == 2
    store = open_store(url)
    try:
        with store.transaction(write=False) as db:
            records = list_records(db, limit=10)
        assert [r.action for r in records] == ["security.user.add", "security.apikey.create", "security.user.set_role"]
        assert all(r.actor.startswith("cli") and r.method == "CLI" and r.outcome == "success" for r in records)
        assert key not in str([r.to_json() for r in records])
        assert verify(store, None).ok
        principal = Credentials(store).resolve_api_key(key)
        assert principal is not None and principal.role is Role.DEVICE
    finally:
        store.close()
    assert cli.main(["audit", "verify", "--database", url]) == 0
    assert "audit trail OK: 3 records" in capsys.readouterr().out
    export = tmp_path / "audit.jsonl"
    assert cli.main(["audit", "export", "--database", url, "--output", str(export)]) == 0
    assert len(export.read_text().splitlines()) == 3


def test_the_demo_creates_one_first_administrator(tmp_path: Path) -> None:
    url = _db(tmp_path)
    store = open_store(url)
    changes: list[tuple[str, str]] = []
    try:
        settings = Settings(database_url=url)
        created = ensure_administrator(store, settings, lambda action, target, _: changes.append((action, target)))
        assert created is not None and created[0] == "admin" and len(created[1]) >= 12
        assert ensure_administrator(store, settings, lambda *_: None) is None
        outcome = Credentials(store).authenticate_password("admin", created[1])
        assert outcome.principal is not None and outcome.principal.role is Role.ADMINISTRATOR
        assert changes == [("security.user.add", "admin")]
    finally:
        store.close()
