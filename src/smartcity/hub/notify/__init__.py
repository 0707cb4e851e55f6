"""Delivery of queued notifications over HTTP and MQTT, at least once, with retries."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Start the deliverer of the notification outbox (work in progress)."""
