"""HTTP routes of the security pillar: sign-in and tokens, credential administration, the SOC's reading."""

from __future__ import annotations

from fastapi import APIRouter

from smartcity.security.api import admin, auth, soc


def router() -> APIRouter:
    root = APIRouter()
    root.include_router(auth.router)
    root.include_router(admin.router)
    root.include_router(soc.router)
    return root
