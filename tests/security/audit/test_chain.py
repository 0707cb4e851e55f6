"""The hash chain and the record types, without a database."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from smartcity.security.audit import GENESIS, AuditRecord, SecurityEvent, canonical, link, looks_secret
from smartcity.security.audit.chain import matches
from smartcity.security.principal import anonymous, system
from tests.security.audit.support import ALICE, KEY, T0, make_record


def fields_of(record: AuditRecord, seq: int) -> dict[str, object]:
    return {"seq": seq, **record.stored_fields()}


def test_canonical_bytes_sort_keys_and_leave_out_the_hash() -> None:
    fields = {"seq": 1, "b": {"z": 1, "a": 2}, "a": "x", "prev_hash": GENESIS, "hash": "ignored"}
    assert canonical(fields) == b'{"a":"x","b":{"a":2,"z":1},"prev_hash":"' + GENESIS.encode() + b'","seq":1}'


def test_without_a_key_the_hash_is_sha256_of_the_canonical_bytes() -> None:
    fields = fields_of(make_record(1), 1)
    expected = hashlib.sha256(canonical({**fields, "prev_hash": GENESIS})).hexdigest()
    assert link(GENESIS, fields, None) == expected
    assert len(expected) == 64


def test_with_a_key_the_hash_is_hmac_sha256() -> None:
    fields = fields_of(make_record(1), 1)
    expected = hmac.new(KEY, canonical({**fields, "prev_hash": GENESIS}), hashlib.sha256).hexdigest()
    assert link(GENESIS, fields, KEY) == expected
    assert link(GENESIS, fields, KEY) != link(GENESIS, fields, None)


def test_every_field_seq_and_prev_hash_change_the_hash() -> None:
    fields = fields_of(make_record(1), 1)
    base = link(GENESIS, fields, KEY)
    assert link("1" * 64, fields, KEY) != base
    assert link(GENESIS, {**fields, "seq": 2}, KEY) != base
    for name in ("actor", "action", "outcome", "target", "at", "tenant", "status"):
        assert link(GENESIS, {**fields, name: "changed"}, KEY) != base, name
    assert link(GENESIS, {**fields, "details": {"i": 2, "names": ["a", "b"]}}, KEY) != base


def test_changing_the_key_breaks_verification() -> None:
    fields = {**fields_of(make_record(1), 1), "prev_hash": GENESIS}
    fields["hash"] = link(GENESIS, fields, KEY)
    assert matches(fields, KEY)
    assert not matches(fields, b"another key")
    assert not matches(fields, None)


def test_record_of_a_principal() -> None:
    record = AuditRecord.of(
        ALICE, "hub.entity.create", "/e/1", outcome="success", status=201, method="POST", tenant="d1", details={"n": 1}
    )
    assert (record.actor, record.actor_kind, record.role, record.credential_id, record.client) == (
        "alice",
        "user",
        "ioc_operator",
        "u-1",
        "10.0.0.1",
    )
    assert type(record.role) is str
    assert (record.tenant, record.method, record.status, record.details) == ("d1", "POST", 201, {"n": 1})
    assert record.at.tzinfo is not None
    cli = AuditRecord.of(system("cli:root"), "security.user.add", "bob", outcome="success")
    assert (cli.method, cli.actor_kind, cli.role, cli.details) == ("CLI", "system", "administrator", {})


def test_record_times_are_kept_in_utc_to_the_microsecond() -> None:
    local = T0.astimezone(timezone(timedelta(hours=7)))
    record = make_record(0, at=local)
    assert record.at == T0 and record.at.utcoffset() == timedelta(0)
    assert record.stored_fields()["at"] == "2026-11-24T03:04:05.123456Z"
    with pytest.raises(ValueError, match="timezone"):
        make_record(0, at=datetime(2026, 1, 1))


@pytest.mark.parametrize(("field", "value"), [("outcome", "maybe"), ("actor_kind", "robot"), ("action", "")], ids=str)
def test_invalid_records_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValueError):
        make_record(1, **{field: value})


def test_details_become_json_and_lose_secret_looking_keys() -> None:
    record = make_record(
        1,
        details={
            "password": "hunter2",
            "Client-Secret": "s",
            "nested": {"access_token": "t", "token_id": "tok-1", "keep": (1, 2)},
            "when": T0,
            "huge": 2**70,
        },
    )
    assert record.details == {
        "nested": {"token_id": "tok-1", "keep": [1, 2]},
        "when": "2026-11-24T03:04:05.123456Z",
        "huge": str(2**70),
    }
    assert "hunter2" not in orjson.dumps(record.stored_fields()).decode()


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("new_password", True),
        ("apiKey", True),
        ("api-key", True),
        ("Authorization", True),
        ("refresh_token", True),
        ("session_cookie", True),
        ("token_id", False),
        ("credential_id", False),
        ("username", False),
        ("key", False),
        ("reason", False),
    ],
)
def test_looks_secret(key: str, secret: bool) -> None:
    assert looks_secret(key) is secret


def test_security_event_kinds_and_default_severities() -> None:
    event = SecurityEvent.of("auth.failure", anonymous("10.1.1.1"), action="security.session.login")
    assert (event.kind, event.severity, event.subject, event.client, event.action) == (
        "auth.failure",
        "low",
        "anonymous",
        "10.1.1.1",
        "security.session.login",
    )
    assert SecurityEvent.of("auth.lockout", ALICE).severity == "high"
    assert SecurityEvent.of("auth.success", ALICE).severity == "info"
    assert SecurityEvent.of("access.denied", ALICE, severity="high").severity == "high"
    assert SecurityEvent.of("tenant.denied", ALICE, tenant="d2").tenant == "d2"
    with pytest.raises(ValueError, match="unknown security event kind"):
        SecurityEvent.of("auth.maybe", ALICE)
    with pytest.raises(ValueError, match="unknown severity"):
        SecurityEvent.of("auth.failure", ALICE, severity="critical")
    assert SecurityEvent.of("token.issued", ALICE, details={"access_token": "x", "n": 1}).details == {"n": 1}
