"""History maintenance: retention roll-ups and (PostgreSQL) time partitions (work in progress)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Start the retention job and keep the partitions ready (work in progress)."""
