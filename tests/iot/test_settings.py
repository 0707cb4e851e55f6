"""The IoT agent's settings: environment, command line, validation; the helpers of the agent's units."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcity import cli
from smartcity.iot.mqtt import parse_broker
from smartcity.settings import Settings, SettingsError


def test_the_agent_settings_come_from_the_environment_and_go_back_to_it() -> None:
    env = {
        "SMARTCITY_MQTT_URL": "mqtt://user:secret@broker.hcmc:1884",
        "SMARTCITY_IOT_MQTT_CLIENT_ID": "agent-1",
        "SMARTCITY_IOT_MAX_FUTURE": "60",
        "SMARTCITY_IOT_DEADLETTER_MAX": "500",
    }
    settings = Settings.from_env(env)
    assert settings.mqtt_url == "mqtt://user:secret@broker.hcmc:1884"
    assert (settings.iot_mqtt_client_id, settings.iot_max_future, settings.iot_deadletter_max) == ("agent-1", 60.0, 500)
    assert Settings.from_env(settings.to_env()) == settings
    defaults = Settings.from_env({})
    assert defaults.mqtt_url == "" and defaults.iot_max_future == 300.0 and defaults.iot_deadletter_max == 100_000


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SMARTCITY_MQTT_URL": "http://broker"}, "SMARTCITY_MQTT_URL"),
        ({"SMARTCITY_MQTT_URL": "mqtt://broker/topic"}, "SMARTCITY_MQTT_URL"),
        ({"SMARTCITY_IOT_MQTT_CLIENT_ID": "has space"}, "CLIENT_ID"),
        ({"SMARTCITY_IOT_MAX_FUTURE": "-1"}, "MAX_FUTURE"),
        ({"SMARTCITY_IOT_DEADLETTER_MAX": "0"}, "DEADLETTER_MAX"),
        (
            {
                "SMARTCITY_MQTT_URL": "mqtt://broker",
                "SMARTCITY_WORKERS": "2",
                "SMARTCITY_DATABASE_URL": "postgresql://db/x",
            },
            "one process",
        ),
    ],
)
def test_bad_agent_settings_are_refused_at_start(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        Settings.from_env(env)


def test_broker_urls() -> None:
    assert parse_broker("mqtt://127.0.0.1").port == 1883
    secure = parse_broker("mqtts://u%40x:p@broker:8884/")
    assert (secure.host, secure.port, secure.username, secure.password, secure.tls) == (
        "broker",
        8884,
        "u@x",
        "p",
        True,
    )
    with pytest.raises(ValueError, match="mqtt://host"):
        parse_broker("mqtt://broker?x=1")


def test_serve_takes_the_broker_on_the_command_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def fake_serve(settings: Settings) -> int:
        seen["settings"] = settings
        return 0

    monkeypatch.setattr(cli, "serve", fake_serve)
    database = f"sqlite:///{tmp_path}/s.db"
    assert cli.main(["serve", "--database", database, "--mqtt", "mqtt://127.0.0.1:1883"]) == 0
    settings = seen["settings"]
    assert isinstance(settings, Settings) and settings.mqtt_url == "mqtt://127.0.0.1:1883"
    assert cli.main(["serve", "--database", database, "--mqtt", "ftp://nowhere"]) == 2
