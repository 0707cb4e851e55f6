"""Temporal history of every attribute (NGSI-LD temporal API, clause 5.6.12-5.6.20 / 6.18-6.22)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Record history on every write, mount /ngsi-ld/v1/temporal, start the retention job (work in progress)."""
