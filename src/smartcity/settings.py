"""Settings, read once at start-up from the environment and the command line.

| variable                      | CLI flag        | default                          |
|-------------------------------|-----------------|----------------------------------|
| SMARTCITY_HOST                | --host          | 127.0.0.1                        |
| SMARTCITY_PORT                | --port          | 8080                             |
| SMARTCITY_DATABASE_URL        | --database      | sqlite:///./var/smartcity.db     |
| SMARTCITY_CONTEXT_TIMEOUT     |                 | 2.0 (seconds, remote @context)   |
| SMARTCITY_MAX_BODY_BYTES      |                 | 8388608 (8 MiB)                  |
| SMARTCITY_LOG_LEVEL           | --log-level     | INFO                             |
| SMARTCITY_WORKERS             | --workers       | 1 (API processes; PostgreSQL only) |
| SMARTCITY_HISTORY_RAW_DAYS    |                 | 0 (keep raw history forever)     |
| SMARTCITY_HISTORY_ROLLUP      |                 | PT1H (roll-up period after that) |
| SMARTCITY_RETENTION_INTERVAL  |                 | 3600 (seconds between runs)      |
| SMARTCITY_NOTIFY_TIMEOUT      |                 | 10.0 (seconds per notification)  |
| SMARTCITY_NOTIFY_MAX_BACKOFF  |                 | 300.0 (seconds between retries)  |
| SMARTCITY_AUTH                | --auth          | required (hub needs a credential); open (demo) |
| SMARTCITY_AUDIT_KEY           |                 | empty (audit chain keyed by SHA-256 only) |
| SMARTCITY_RATE_LIMIT          |                 | 200 (requests/s per credential; 0: off) |
| SMARTCITY_RATE_LIMIT_ADDRESS  |                 | 500 (requests/s per client address; 0: off) |
| SMARTCITY_LOGIN_LOCKOUT       |                 | 5 (failed sign-ins before a 15-minute lock) |
| SMARTCITY_SESSION_HOURS       |                 | 12 (browser session lifetime)    |
| SMARTCITY_TOKEN_SECONDS       |                 | 3600 (OAuth2 access-token lifetime) |
| SMARTCITY_SECURE_COOKIES      |                 | false (true behind HTTPS)        |
| SMARTCITY_MQTT_URL            | --mqtt          | empty (no MQTT southbound); mqtt://host:1883 |
| SMARTCITY_IOT_MQTT_CLIENT_ID  |                 | smartcity-iot-agent (its persistent session) |
| SMARTCITY_IOT_MAX_FUTURE      |                 | 300 (seconds a device clock may run ahead) |
| SMARTCITY_IOT_DEADLETTER_MAX  |                 | 100000 (refused device messages kept) |
| SMARTCITY_IOC_TENANT          |                 | empty (the hub tenant the operations centre watches) |
| SMARTCITY_IOC_RULES           |                 | empty (a directory of rule YAML files loaded at start) |
| SMARTCITY_SMTP_URL            |                 | empty (no e-mail channel); smtp://host:25 |
| SMARTCITY_SMTP_FROM           |                 | ioc@smartcity.local (sender of alert e-mails) |
| SMARTCITY_MEDIA_DIR           |                 | ./var/media (citizen-report photos) |
| SMARTCITY_MAX_PHOTO_BYTES     |                 | 5242880 (5 MiB per citizen-report photo) |
| SMARTCITY_PUBLIC_URL          |                 | empty (http://host:port; base of links in e-mails and Open311) |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///./var/smartcity.db"

#: seconds the server waits for open connections (live dashboard streams never end by themselves) on shutdown
GRACEFUL_SHUTDOWN_SECONDS = 5


class SettingsError(ValueError):
    """A setting has a value the platform cannot use; raised at start-up, never later."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = DEFAULT_DATABASE_URL
    context_timeout: float = 2.0
    max_body_bytes: int = 8 * 1024 * 1024
    log_level: str = "INFO"
    workers: int = 1
    history_raw_days: int = 0
    history_rollup: str = "PT1H"
    retention_interval: float = 3600.0
    notify_timeout: float = 10.0
    notify_max_backoff: float = 300.0
    auth: str = "required"
    audit_key: str = ""
    rate_limit: float = 200.0
    rate_limit_address: float = 500.0
    login_lockout: int = 5
    session_hours: float = 12.0
    token_seconds: int = 3600
    secure_cookies: bool = False
    mqtt_url: str = ""
    iot_mqtt_client_id: str = "smartcity-iot-agent"
    iot_max_future: float = 300.0
    iot_deadletter_max: int = 100_000
    iot_command_timeout: float = 60.0
    ioc_tenant: str = ""
    ioc_rules: str = ""
    smtp_url: str = ""
    smtp_from: str = "ioc@smartcity.local"
    media_dir: str = "./var/media"
    max_photo_bytes: int = 5 * 1024 * 1024
    public_url: str = ""
    opendata_tenant: str = ""
    opendata_publish: bool = True
    opendata_publications: str = ""
    datastore_sql_timeout: float = 5.0
    datastore_sql_max_rows: int = 32_000

    @property
    def open_hub(self) -> bool:
        """Whether hub reads and writes are allowed without a credential (the embedded demo)."""
        return self.auth == "open"

    def to_env(self) -> dict[str, str]:
        """These settings as the environment variables that :meth:`from_env` reads (for worker processes)."""
        return {
            "SMARTCITY_HOST": self.host,
            "SMARTCITY_PORT": str(self.port),
            "SMARTCITY_DATABASE_URL": self.database_url,
            "SMARTCITY_CONTEXT_TIMEOUT": str(self.context_timeout),
            "SMARTCITY_MAX_BODY_BYTES": str(self.max_body_bytes),
            "SMARTCITY_LOG_LEVEL": self.log_level,
            "SMARTCITY_WORKERS": str(self.workers),
            "SMARTCITY_HISTORY_RAW_DAYS": str(self.history_raw_days),
            "SMARTCITY_HISTORY_ROLLUP": self.history_rollup,
            "SMARTCITY_RETENTION_INTERVAL": str(self.retention_interval),
            "SMARTCITY_NOTIFY_TIMEOUT": str(self.notify_timeout),
            "SMARTCITY_NOTIFY_MAX_BACKOFF": str(self.notify_max_backoff),
            "SMARTCITY_AUTH": self.auth,
            "SMARTCITY_AUDIT_KEY": self.audit_key,
            "SMARTCITY_RATE_LIMIT": str(self.rate_limit),
            "SMARTCITY_RATE_LIMIT_ADDRESS": str(self.rate_limit_address),
            "SMARTCITY_LOGIN_LOCKOUT": str(self.login_lockout),
            "SMARTCITY_SESSION_HOURS": str(self.session_hours),
            "SMARTCITY_TOKEN_SECONDS": str(self.token_seconds),
            "SMARTCITY_SECURE_COOKIES": "true" if self.secure_cookies else "false",
            "SMARTCITY_MQTT_URL": self.mqtt_url,
            "SMARTCITY_IOT_MQTT_CLIENT_ID": self.iot_mqtt_client_id,
            "SMARTCITY_IOT_MAX_FUTURE": str(self.iot_max_future),
            "SMARTCITY_IOT_DEADLETTER_MAX": str(self.iot_deadletter_max),
            "SMARTCITY_IOT_COMMAND_TIMEOUT": str(self.iot_command_timeout),
            "SMARTCITY_IOC_TENANT": self.ioc_tenant,
            "SMARTCITY_IOC_RULES": self.ioc_rules,
            "SMARTCITY_SMTP_URL": self.smtp_url,
            "SMARTCITY_SMTP_FROM": self.smtp_from,
            "SMARTCITY_MEDIA_DIR": self.media_dir,
            "SMARTCITY_MAX_PHOTO_BYTES": str(self.max_photo_bytes),
            "SMARTCITY_PUBLIC_URL": self.public_url,
            "SMARTCITY_OPENDATA_TENANT": self.opendata_tenant,
            "SMARTCITY_OPENDATA_PUBLISH": "true" if self.opendata_publish else "false",
            "SMARTCITY_OPENDATA_PUBLICATIONS": self.opendata_publications,
            "SMARTCITY_DATASTORE_SQL_TIMEOUT": str(self.datastore_sql_timeout),
            "SMARTCITY_DATASTORE_SQL_MAX_ROWS": str(self.datastore_sql_max_rows),
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from the environment, then explicit overrides (CLI flags) that are not None."""
        env = os.environ if env is None else env
        base = cls(
            host=env.get("SMARTCITY_HOST", cls.host),
            port=_int(env, "SMARTCITY_PORT", cls.port),
            database_url=env.get("SMARTCITY_DATABASE_URL", cls.database_url),
            context_timeout=_float(env, "SMARTCITY_CONTEXT_TIMEOUT", cls.context_timeout),
            max_body_bytes=_int(env, "SMARTCITY_MAX_BODY_BYTES", cls.max_body_bytes),
            log_level=env.get("SMARTCITY_LOG_LEVEL", cls.log_level).upper(),
            workers=_int(env, "SMARTCITY_WORKERS", cls.workers),
            history_raw_days=_int(env, "SMARTCITY_HISTORY_RAW_DAYS", cls.history_raw_days),
            history_rollup=env.get("SMARTCITY_HISTORY_ROLLUP", cls.history_rollup),
            retention_interval=_float(env, "SMARTCITY_RETENTION_INTERVAL", cls.retention_interval),
            notify_timeout=_float(env, "SMARTCITY_NOTIFY_TIMEOUT", cls.notify_timeout),
            notify_max_backoff=_float(env, "SMARTCITY_NOTIFY_MAX_BACKOFF", cls.notify_max_backoff),
            auth=env.get("SMARTCITY_AUTH", cls.auth).strip().lower(),
            audit_key=env.get("SMARTCITY_AUDIT_KEY", cls.audit_key),
            rate_limit=_float(env, "SMARTCITY_RATE_LIMIT", cls.rate_limit),
            rate_limit_address=_float(env, "SMARTCITY_RATE_LIMIT_ADDRESS", cls.rate_limit_address),
            login_lockout=_int(env, "SMARTCITY_LOGIN_LOCKOUT", cls.login_lockout),
            session_hours=_float(env, "SMARTCITY_SESSION_HOURS", cls.session_hours),
            token_seconds=_int(env, "SMARTCITY_TOKEN_SECONDS", cls.token_seconds),
            secure_cookies=_bool(env, "SMARTCITY_SECURE_COOKIES", cls.secure_cookies),
            mqtt_url=env.get("SMARTCITY_MQTT_URL", cls.mqtt_url).strip(),
            iot_mqtt_client_id=env.get("SMARTCITY_IOT_MQTT_CLIENT_ID", cls.iot_mqtt_client_id).strip(),
            iot_max_future=_float(env, "SMARTCITY_IOT_MAX_FUTURE", cls.iot_max_future),
            iot_deadletter_max=_int(env, "SMARTCITY_IOT_DEADLETTER_MAX", cls.iot_deadletter_max),
            iot_command_timeout=_float(env, "SMARTCITY_IOT_COMMAND_TIMEOUT", cls.iot_command_timeout),
            ioc_tenant=env.get("SMARTCITY_IOC_TENANT", cls.ioc_tenant).strip(),
            ioc_rules=env.get("SMARTCITY_IOC_RULES", cls.ioc_rules).strip(),
            smtp_url=env.get("SMARTCITY_SMTP_URL", cls.smtp_url).strip(),
            smtp_from=env.get("SMARTCITY_SMTP_FROM", cls.smtp_from).strip(),
            media_dir=env.get("SMARTCITY_MEDIA_DIR", cls.media_dir).strip(),
            max_photo_bytes=_int(env, "SMARTCITY_MAX_PHOTO_BYTES", cls.max_photo_bytes),
            public_url=env.get("SMARTCITY_PUBLIC_URL", cls.public_url).strip().rstrip("/"),
            opendata_tenant=env.get("SMARTCITY_OPENDATA_TENANT", cls.opendata_tenant).strip(),
            opendata_publish=_bool(env, "SMARTCITY_OPENDATA_PUBLISH", cls.opendata_publish),
            opendata_publications=env.get("SMARTCITY_OPENDATA_PUBLICATIONS", cls.opendata_publications).strip(),
            datastore_sql_timeout=_float(env, "SMARTCITY_DATASTORE_SQL_TIMEOUT", cls.datastore_sql_timeout),
            datastore_sql_max_rows=_int(env, "SMARTCITY_DATASTORE_SQL_MAX_ROWS", cls.datastore_sql_max_rows),
        )
        chosen = {k: v for k, v in overrides.items() if v is not None}
        settings = replace(base, **chosen)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not (self.database_url.startswith("sqlite:///") or self.database_url.startswith("postgresql://")):
            raise SettingsError(
                f"unsupported database URL {self.database_url!r}: use sqlite:///path/file.db "
                "or postgresql://user@host:port/db"
            )
        if not 0 < self.port < 65536:
            raise SettingsError(f"port {self.port} is out of range")
        if not 1 <= self.workers <= 64:
            raise SettingsError(f"workers must be between 1 and 64, not {self.workers}")
        if self.workers > 1 and self.database_url.startswith("sqlite:"):
            raise SettingsError("the embedded SQLite store runs in one process: use PostgreSQL for several workers")
        if self.history_raw_days < 0:
            raise SettingsError("SMARTCITY_HISTORY_RAW_DAYS must be 0 (keep everything) or a number of days")
        from smartcity.hub.temporal.retention import period_micros

        try:
            period_micros(self.history_rollup)
        except ValueError as exc:
            raise SettingsError(f"SMARTCITY_HISTORY_ROLLUP: {exc}") from exc
        if self.retention_interval <= 0 or self.notify_timeout <= 0 or self.notify_max_backoff <= 0:
            raise SettingsError("retention interval, notification timeout and backoff must be positive")
        if self.auth not in ("required", "open"):
            raise SettingsError(f"SMARTCITY_AUTH must be 'required' or 'open', not {self.auth!r}")
        if self.rate_limit < 0 or self.rate_limit_address < 0:
            raise SettingsError("rate limits must be 0 (off) or a positive number of requests per second")
        if self.login_lockout < 1 or self.session_hours <= 0 or self.token_seconds < 60:
            raise SettingsError("lockout needs >= 1 attempt, sessions a positive lifetime, tokens >= 60 seconds")
        if self.context_timeout <= 0 or self.context_timeout > 2.0:
            raise SettingsError("SMARTCITY_CONTEXT_TIMEOUT must be in (0, 2] seconds")
        self._validate_iot()
        self._validate_ioc()

    def _validate_ioc(self) -> None:
        if self.smtp_url and not re.fullmatch(r"smtps?://[^/:\s]+(:\d{1,5})?/?", self.smtp_url):
            raise SettingsError(f"SMARTCITY_SMTP_URL must look like smtp://host:25, not {self.smtp_url!r}")
        if not 1024 <= self.max_photo_bytes <= 50 * 1024 * 1024:
            raise SettingsError("SMARTCITY_MAX_PHOTO_BYTES must be between 1 KiB and 50 MiB")
        if self.public_url and not re.fullmatch(r"https?://\S+", self.public_url):
            raise SettingsError(f"SMARTCITY_PUBLIC_URL must be an http(s) URL, not {self.public_url!r}")

    def _validate_iot(self) -> None:
        if self.mqtt_url:
            from smartcity.iot.mqtt import parse_broker

            try:
                parse_broker(self.mqtt_url)
            except ValueError as exc:
                raise SettingsError(f"SMARTCITY_MQTT_URL: {exc}") from exc
            if self.workers > 1:
                raise SettingsError(
                    "the MQTT southbound runs in one process (one MQTT session): serve it with SMARTCITY_WORKERS=1, "
                    "next to the API workers started without SMARTCITY_MQTT_URL"
                )
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", self.iot_mqtt_client_id):
            raise SettingsError("SMARTCITY_IOT_MQTT_CLIENT_ID must be 1-64 letters, digits, '_', '.' or '-'")
        if self.iot_max_future < 0:
            raise SettingsError("SMARTCITY_IOT_MAX_FUTURE must be 0 or more seconds")
        if self.iot_deadletter_max < 1:
            raise SettingsError("SMARTCITY_IOT_DEADLETTER_MAX must be at least 1")
        if not 0 < self.iot_command_timeout <= 86_400:
            raise SettingsError("SMARTCITY_IOT_COMMAND_TIMEOUT must be more than 0 and at most 86400 seconds")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")
