"""Export as JSON lines and the ``smartcity audit`` command, on both engines."""

from __future__ import annotations

import argparse
import io
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from smartcity.hub.store import Store
from smartcity.security.audit import cli as audit_cli
from smartcity.security.audit import export
from smartcity.settings import Settings
from tests.security.audit.support import KEY, T0, fill, raw, stored, url_of


def test_export_writes_every_entry_as_a_json_line(store: Store) -> None:
    entries = fill(store, 12)
    out = io.StringIO()
    seen: list[int] = []
    assert export(store, out, progress=seen.append, page=5) == 12
    assert seen == [5, 10, 12]
    lines = out.getvalue().splitlines()
    assert (
        [orjson.loads(line) for line in lines] == [e.to_json() for e in entries] == [e.to_json() for e in stored(store)]
    )
    assert set(orjson.loads(lines[0])) >= {"seq", "prev_hash", "hash", "details", "at"}


def test_export_of_a_time_window(store: Store) -> None:
    fill(store, 12)
    out = io.StringIO()
    count = export(store, out, since=T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=6), page=2)
    assert count == 3
    assert [orjson.loads(line)["seq"] for line in out.getvalue().splitlines()] == [3, 4, 5]


def test_export_keeps_a_damaged_row_as_stored(store: Store) -> None:
    fill(store, 2)
    raw(store, "UPDATE audit_records SET details = ?, at = ? WHERE seq = ?", ["oops", "yesterday", 2])
    out = io.StringIO()
    assert export(store, out) == 2
    second = orjson.loads(out.getvalue().splitlines()[1])
    assert (second["details"], second["at"]) == ("oops", "yesterday")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="smartcity")
    audit_cli.add_parsers(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def settings_for(store: Store, key: bytes | None = KEY) -> Settings:
    return Settings(database_url=url_of(store), audit_key=key.decode() if key else "")


def test_cli_verify_ok_and_tampered(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    entries = fill(store, 5)
    head = f"{entries[-1].seq}:{entries[-1].hash}"
    assert audit_cli.run(parse("audit", "verify"), settings_for(store)) == 0
    assert capsys.readouterr().out == f"audit trail OK: 5 records, head 5 {entries[-1].hash}\n"
    assert audit_cli.run(parse("audit", "verify", "--expect-head", head), settings_for(store)) == 0
    capsys.readouterr()

    assert audit_cli.run(parse("audit", "verify"), settings_for(store, b"wrong key")) == 1
    assert "NOT OK (edited at record 1)" in capsys.readouterr().out

    raw(store, "UPDATE audit_records SET outcome = ? WHERE seq = ?", ["failure", 3])
    assert audit_cli.run(parse("audit", "verify"), settings_for(store)) == 1
    out = capsys.readouterr().out
    assert out.startswith("audit trail NOT OK (edited at record 3) after 2 good records: record 3 was edited")


def test_cli_verify_with_an_anchor_catches_a_rewound_head(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    entries = fill(store, 5)
    raw(store, "DELETE FROM audit_records WHERE seq > ?", [3])
    raw(store, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", [3, entries[2].hash])
    assert audit_cli.run(parse("audit", "verify"), settings_for(store)) == 0
    capsys.readouterr()
    args = parse("audit", "verify", "--expect-head", f"5:{entries[-1].hash.upper()}")
    assert audit_cli.run(args, settings_for(store)) == 1
    assert "NOT OK (head at record 4)" in capsys.readouterr().out


@pytest.mark.parametrize("anchor", ["5", "x:" + "a" * 64, "0:" + "a" * 64, "5:abc"])
def test_cli_refuses_a_malformed_anchor(anchor: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("audit", "verify", "--expect-head", anchor)
    assert "SEQ:HASH" in capsys.readouterr().err


def test_cli_export_to_a_file(store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = fill(store, 7)
    target = tmp_path / "audit.jsonl"
    args = parse("audit", "export", "--output", str(target), "--since", "2026-11-24T03:06:00Z")
    assert audit_cli.run(args, settings_for(store)) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [orjson.loads(line) for line in lines] == [e.to_json() for e in entries[1:]]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"exported 6 audit records to {target}" in captured.err


def test_cli_export_to_standard_output(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    entries = fill(store, 3)
    args = parse("audit", "export", "--until", "2026-11-24T10:06:05.123456+07:00")
    assert audit_cli.run(args, settings_for(store)) == 0
    out = capsys.readouterr().out
    assert [orjson.loads(line) for line in out.splitlines()] == [entries[0].to_json()]


def test_cli_refuses_a_time_without_a_zone(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("audit", "export", "--since", "2026-11-24T03:06:00")
    assert "timezone" in capsys.readouterr().err
