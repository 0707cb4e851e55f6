"""Who may call this part's routes (merged into smartcity.security.policy.POLICY).

Every Open311 route is public: citizens have no accounts (the platform's per-address rate limit applies), reads
never show personal data, and a report's POST is audited by the security gate (action ``open311.request.create``).
"""

from __future__ import annotations

from smartcity.security.policy import Rule, _public

_READS = {
    "open311_services": "open311.service.read",
    "open311_service": "open311.service.read",
    "open311_requests": "open311.request.read",
    "open311_request": "open311.request.read",
    "open311_token": "open311.token.read",
}

POLICY: dict[str, Rule] = {
    **{name: _public(action) for name, action in _READS.items()},
    **{f"{name}_fmt": _public(action) for name, action in _READS.items()},
    "open311_create_request": _public("open311.request.create"),
    "open311_create_request_fmt": _public("open311.request.create"),
    "open311_media": _public("open311.media.read"),
}
