"""The tamper-evident audit trail and the security events of the platform.

* :class:`AuditRecord` / :class:`AuditEntry`: who did what, stored in a hash chain (:mod:`.chain`);
* :class:`SecurityEvent` / :class:`StoredEvent`: sign-ins, denials, lockouts... for security operations;
* :class:`SecurityLog`: the background service that queues both and writes them without blocking requests;
* :func:`verify` and :func:`export`: checking and archiving the trail (``smartcity audit verify|export``).
"""

from __future__ import annotations

from smartcity.security.audit.chain import GENESIS, canonical, link
from smartcity.security.audit.details import looks_secret
from smartcity.security.audit.events import (
    EVENT_KINDS,
    SEVERITIES,
    SecurityEvent,
    StoredEvent,
    insert_events,
    list_events,
)
from smartcity.security.audit.export import export
from smartcity.security.audit.record import ACTOR_KINDS, OUTCOMES, AuditEntry, AuditRecord
from smartcity.security.audit.repository import append, iter_all, list_records, read_head
from smartcity.security.audit.trail import SecurityLog
from smartcity.security.audit.verify import PROBLEMS, VerifyReport, verify

__all__ = [
    "ACTOR_KINDS",
    "EVENT_KINDS",
    "GENESIS",
    "OUTCOMES",
    "PROBLEMS",
    "SEVERITIES",
    "AuditEntry",
    "AuditRecord",
    "SecurityEvent",
    "SecurityLog",
    "StoredEvent",
    "VerifyReport",
    "append",
    "canonical",
    "export",
    "insert_events",
    "iter_all",
    "link",
    "list_events",
    "list_records",
    "looks_secret",
    "read_head",
    "verify",
]
