"""API-test plumbing: ``xfail_backend`` marks a known store bug that shows on one storage backend only."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "xfail_backend(backend, reason): strict xfail of the test's parametrisation on one store backend "
        "(sqlite or postgres); the other backend must pass",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            continue
        for mark in item.iter_markers("xfail_backend"):
            if callspec.params.get("store") == mark.args[0]:
                item.add_marker(pytest.mark.xfail(reason=mark.kwargs["reason"], strict=True))
