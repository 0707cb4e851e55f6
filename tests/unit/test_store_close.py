"""Closing the SQLite store waits for the transactions still running in worker threads.

At shutdown, a background service's query may still be running in a thread-pool worker after its task was
cancelled; closing the connection under it would crash the process (SQLite is not safe against that).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from smartcity.hub.store import open_store


def test_close_waits_for_a_running_read_and_refuses_new_ones(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'close.db'}")
    inside = threading.Event()
    results: list[object] = []

    def slow_reader() -> None:
        with store.transaction(write=False) as db:
            inside.set()
            time.sleep(0.5)
            results.append(db.run("SELECT count(*) FROM sqlite_master").fetchone()[0])

    worker = threading.Thread(target=slow_reader)
    worker.start()
    assert inside.wait(10)
    store.close()
    # the read finished on an open connection before close() returned
    assert len(results) == 1
    worker.join(10)
    assert len(results) == 1 and isinstance(results[0], int) and results[0] > 0
    with pytest.raises(sqlite3.ProgrammingError, match="closed"), store.transaction(write=False):
        pass
    store.close()  # closing twice is harmless
