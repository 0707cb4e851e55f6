"""Export of the audit trail as JSON lines, for archives and outside verification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import IO

import orjson

from smartcity.hub.store import Store
from smartcity.security.audit.repository import iter_rows


def export(
    store: Store,
    out: IO[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    page: int = 5000,
) -> int:
    """Write the records (``since`` inclusive, ``until`` exclusive) to ``out``, one JSON object per line in seq
    order, streaming page by page; returns how many. Each line is the entry's export form
    (:meth:`AuditEntry.to_json`: every field, ``seq``, ``prev_hash`` and ``hash`` included) taken from the row as
    stored, so a damaged row is exported as it is rather than stopping the export."""
    count = 0
    for fields in iter_rows(store, since=since, until=until, page=page):
        out.write(orjson.dumps(fields).decode())
        out.write("\n")
        count += 1
        if progress is not None and count % page == 0:
            progress(count)
    if progress is not None:
        progress(count)
    return count
