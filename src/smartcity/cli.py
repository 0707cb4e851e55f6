"""The ``smartcity`` command."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence

from smartcity import __version__
from smartcity.settings import GRACEFUL_SHUTDOWN_SECONDS, Settings, SettingsError

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartcity", description="Ho Chi Minh City smart-city platform")
    parser.add_argument("--version", action="version", version=f"smartcity {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the platform's HTTP server")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, env SMARTCITY_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8080, env SMARTCITY_PORT)")
    serve.add_argument(
        "--database",
        dest="database_url",
        help="sqlite:///path/file.db (default sqlite:///./var/smartcity.db) or postgresql://user@host:port/db "
        "(env SMARTCITY_DATABASE_URL)",
    )
    serve.add_argument("--log-level", dest="log_level", help="DEBUG, INFO, WARNING (env SMARTCITY_LOG_LEVEL)")
    serve.add_argument(
        "--workers", type=int, help="API processes sharing one PostgreSQL database (default 1, env SMARTCITY_WORKERS)"
    )
    serve.add_argument(
        "--auth",
        choices=("required", "open"),
        help="required: hub calls need a credential (default); open: anyone may use the hub (env SMARTCITY_AUTH)",
    )
    serve.add_argument(
        "--mqtt",
        dest="mqtt_url",
        metavar="URL",
        help="subscribe the IoT agent to the device topics of this MQTT broker, mqtt://host:1883 "
        "(env SMARTCITY_MQTT_URL; default: no MQTT southbound)",
    )
    demo = commands.add_parser("demo", help="run the live demo: open hub, a first administrator, the city's data")
    demo.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    demo.add_argument("--port", type=int, help="port (default 8080)")
    demo.add_argument("--database", dest="database_url", help="default sqlite:///./var/smartcity.db")
    demo.add_argument("--log-level", dest="log_level", help="DEBUG, INFO, WARNING")
    demo.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per wall-clock second (default 60: one hour of data per minute; 1: real time)",
    )
    demo.add_argument(
        "--mqtt",
        dest="mqtt_url",
        metavar="URL",
        help="send the device messages to this MQTT broker (mqtt://host:1883) instead of HTTP /iot/json",
    )
    demo.add_argument(
        "--backfill",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="start the replay this many hours in the past; it runs at --speed until it reaches the wall clock, "
        "then live (default 24)",
    )
    demo.add_argument(
        "--no-replay", dest="replay", action="store_false", help="load the city and provision sensors, send no data"
    )

    from smartcity.security import credentials_cli
    from smartcity.security.audit import cli as audit_cli

    credentials_cli.add_parsers(commands)
    audit_cli.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            database_url=getattr(args, "database_url", None),
            log_level=args.log_level.upper() if getattr(args, "log_level", None) else None,
            workers=getattr(args, "workers", None),
            auth="open" if args.command == "demo" else getattr(args, "auth", None),
            mqtt_url=getattr(args, "mqtt_url", None),
        )
    except SettingsError as exc:
        print(f"smartcity: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return serve(settings)
    if args.command == "demo":
        return demo(settings, args)
    if args.command in ("user", "apikey", "client"):
        from smartcity.security import credentials_cli

        return credentials_cli.run(args, settings, _cli_audit(settings))
    if args.command == "audit":
        from smartcity.security.audit import cli as audit_cli

        return audit_cli.run(args, settings)
    return 2


def _cli_audit(settings: Settings) -> Callable[[str, str, dict[str, object]], None]:
    """Record each change made from the command line in the audit trail, as the operating-system user."""
    import getpass

    from smartcity.hub.store import open_store
    from smartcity.security.audit import AuditRecord, SecurityEvent, SecurityLog
    from smartcity.security.principal import system

    try:
        who = system(f"cli:{getpass.getuser()}")
    except (KeyError, OSError):
        who = system("cli")

    def on_change(action: str, target: str, details: dict[str, object]) -> None:
        store = open_store(settings.database_url)
        try:
            security_log = SecurityLog(store, settings.audit_key.encode() or None)
            security_log.record(
                AuditRecord.of(who, action, target, outcome="success", method="CLI", details=dict(details))
            )
            security_log.emit(SecurityEvent.of("admin.action", who, action=action, details={"target": target}))
            security_log.flush()
        finally:
            store.close()

    return on_change


def demo(settings: Settings, args: argparse.Namespace | None = None) -> int:
    """The live demo: the hub open to anyone (logged), a first administrator, then the server fed with the city."""
    from smartcity.demo.runner import DemoOptions, replayer_key, run
    from smartcity.hub.store import open_store
    from smartcity.security.bootstrap import ensure_administrator

    options = DemoOptions(
        speed=getattr(args, "speed", 60.0),
        backfill_hours=getattr(args, "backfill", 24.0),
        mqtt_url=getattr(args, "mqtt_url", None),
        replay=getattr(args, "replay", True),
    )
    if options.speed <= 0 or options.backfill_hours < 0:
        print("smartcity: --speed must be positive and --backfill 0 or more hours", file=sys.stderr)
        return 2
    audit = _cli_audit(settings)
    store = open_store(settings.database_url)
    try:
        created = ensure_administrator(store, settings, audit)
        api_key = replayer_key(store, audit)
    finally:
        store.close()
    base = f"http://{settings.host}:{settings.port}"
    if created is not None:
        username, password = created
        print(
            f"\nA first administrator was created: {username} / {password}\n"
            "(the password is shown this once; change it with: smartcity user set-password admin)\n"
            f"Sign in:  curl -i -X POST {base}/auth/login -H 'Content-Type: application/json' "
            f'-d \'{{"username": "{username}", "password": "{password}"}}\'\n',
            flush=True,
        )
    else:
        print(
            "\nThe administrator already exists (sign in with POST /auth/login; forgot the password? "
            "smartcity user set-password admin)\n",
            flush=True,
        )
    return run(settings, options, api_key)


def serve(settings: Settings) -> int:
    import uvicorn

    from smartcity.app import create_app

    banner = (
        f"smartcity {__version__}: http://{settings.host}:{settings.port}/  (API docs at /docs, "
        f"NGSI-LD at /ngsi-ld/v1, database {_safe_url(settings.database_url)}"
        + (f", {settings.workers} workers)" if settings.workers > 1 else ")")
    )
    if settings.workers > 1:
        # migrate once here, then let each worker process build the app from the same settings
        from smartcity.hub.store import open_store

        open_store(settings.database_url).close()
        os.environ.update(settings.to_env())
        print(banner, flush=True)
        uvicorn.run(
            "smartcity.app:create_app",
            factory=True,
            workers=settings.workers,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        return 0
    app = create_app(settings)
    print(banner, flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


def _safe_url(url: str) -> str:
    """The database URL without a password, for logs."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


if __name__ == "__main__":
    raise SystemExit(main())
