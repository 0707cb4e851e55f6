"""``smartcity audit verify`` and ``smartcity audit export``."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from typing import Any

from smartcity.hub.model import parse_time
from smartcity.hub.store import open_store
from smartcity.security.audit.export import export
from smartcity.security.audit.verify import verify
from smartcity.settings import Settings

_ANCHOR = re.compile(r"^(\d+):([0-9a-fA-F]{64})$")


def _anchor(value: str) -> tuple[int, str]:
    match = _ANCHOR.match(value.strip())
    if match is None or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"expected SEQ:HASH (a record number and 64 hex digits), not {value!r}")
    return int(match.group(1)), match.group(2).lower()


def _moment(value: str) -> datetime:
    moment = parse_time(value)
    if moment is None:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time with a timezone (2026-01-31T00:00:00Z), not {value!r}"
        )
    return moment


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` command and its subcommands to the ``smartcity`` command's subparsers."""
    audit = commands.add_parser("audit", help="verify or export the tamper-evident audit trail")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    check = sub.add_parser("verify", help="check the hash chain; exit status 1 if it was tampered with")
    check.add_argument(
        "--expect-head",
        dest="expect_head",
        type=_anchor,
        metavar="SEQ:HASH",
        help="a head printed by an earlier verify and kept outside the database: catches a truncated trail "
        "whose head row was rewound",
    )
    out = sub.add_parser("export", help="write the audit trail as JSON lines")
    for command in (check, out):
        command.add_argument(
            "--database",
            dest="database_url",
            help="sqlite:///path/file.db or postgresql://... (env SMARTCITY_DATABASE_URL)",
        )
    out.add_argument("--output", "-o", help="file to write (default: standard output)")
    out.add_argument("--since", type=_moment, help="first time included (ISO 8601)")
    out.add_argument("--until", type=_moment, help="first time excluded (ISO 8601)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``smartcity audit ...`` against the database of ``settings``; returns the exit status."""
    store = open_store(settings.database_url)
    try:
        key = settings.audit_key.encode() or None
        if args.audit_command == "verify":
            return _verify(store, key, args)
        if args.audit_command == "export":
            return _export(store, args)
        print(f"smartcity audit: unknown command {args.audit_command!r}", file=sys.stderr)
        return 2
    finally:
        store.close()


def _verify(store: Any, key: bytes | None, args: argparse.Namespace) -> int:
    def show(count: int) -> None:
        print(f"\rchecked {count} records", end="", file=sys.stderr, flush=True)

    report = verify(store, key, expect_head=args.expect_head, progress=show if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if report.ok:
        print(report.message)
        return 0
    where = f" at record {report.seq}" if report.seq is not None else ""
    print(f"audit trail NOT OK ({report.problem}{where}) after {report.checked} good records: {report.message}")
    return 1


def _export(store: Any, args: argparse.Namespace) -> int:
    if not args.output:
        export(store, sys.stdout, since=args.since, until=args.until)
        sys.stdout.flush()
        return 0

    def show(count: int) -> None:
        print(f"\rexported {count} records", end="", file=sys.stderr, flush=True)

    with open(args.output, "w", encoding="utf-8", newline="\n") as out:
        count = export(store, out, since=args.since, until=args.until, progress=show)
    print(f"\rexported {count} audit records to {args.output}", file=sys.stderr)
    return 0
