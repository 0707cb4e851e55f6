"""Subscriptions (NGSI-LD clause 5.8 / 6.10-6.11) and the notifications they queue."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount /ngsi-ld/v1/subscriptions and match every write against them (work in progress)."""
