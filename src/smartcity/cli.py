"""The ``smartcity`` command."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence

from smartcity import __version__
from smartcity.settings import Settings, SettingsError

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            database_url=args.database_url,
            log_level=args.log_level.upper() if args.log_level else None,
            workers=args.workers,
        )
    except SettingsError as exc:
        print(f"smartcity: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return serve(settings)
    return 2


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
        )
        return 0
    app = create_app(settings)
    print(banner, flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(), access_log=False)
    return 0


def _safe_url(url: str) -> str:
    """The database URL without a password, for logs."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


if __name__ == "__main__":
    raise SystemExit(main())
