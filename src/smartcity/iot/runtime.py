"""The IoT agent's parts in a running app (``app.state.iot``), for its routes and services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from smartcity.iot.agent import Agent
from smartcity.iot.directory import Directory

if TYPE_CHECKING:
    from smartcity.iot.commands import CommandHook
    from smartcity.iot.dispatch import CommandDispatcher
    from smartcity.iot.mqtt import MqttSouthbound


@dataclass
class IotRuntime:
    directory: Directory
    agent: Agent
    mqtt: MqttSouthbound | None = None
    commands: CommandDispatcher | None = None
    command_hook: CommandHook | None = None

    def invalidate(self) -> None:
        """Forget cached devices (after a provisioning change)."""
        self.directory.invalidate()
        if self.command_hook is not None:
            self.command_hook.invalidate()


def runtime_of(request: Request) -> IotRuntime:
    runtime: IotRuntime = request.app.state.iot
    return runtime
