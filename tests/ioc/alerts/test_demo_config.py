"""The demo's start-up configuration: loaded once, channels only for what is configured, every level's channels
existing."""

from __future__ import annotations

from smartcity.hub.store import Store
from smartcity.ioc.alerts import configuration as conf
from smartcity.settings import Settings
from tests.ioc.alerts.support import Clock, manager_on


def test_offline_demo_has_policies_and_no_channel(store: Store) -> None:
    manager = manager_on(store, Clock())
    assert conf.load_demo(manager, Settings(database_url="sqlite:///unused.db")) is True
    policies = conf.policies(manager)
    assert {"flood-critical", "flood", "air-major", "traffic-major", "devices"} <= {p.id for p in policies}
    assert conf.channels(manager) == []
    assert all(not level.channels for p in policies for level in p.levels)
    flood = conf.policy(manager, "flood-critical")
    assert [lv.after_minutes for lv in flood.levels] == [5.0, 15.0]
    assert conf.load_demo(manager, Settings(database_url="sqlite:///unused.db")) is False  # only once


def test_configured_brokers_and_mail_get_channels(store: Store) -> None:
    manager = manager_on(store, Clock())
    settings = Settings(
        database_url="sqlite:///unused.db", mqtt_url="mqtt://127.0.0.1:1883", smtp_url="smtp://127.0.0.1:25"
    )
    assert conf.load_demo(manager, settings) is True
    channels = {c.id: c for c in conf.channels(manager)}
    assert channels["ioc-mqtt"].target == "mqtt://127.0.0.1:1883/smartcity/ioc/alerts"
    assert channels["ioc-duty-email"].kind == "email"
    levels = conf.policy(manager, "flood-critical").levels
    assert levels[0].channels == ("ioc-duty-email", "ioc-mqtt")
