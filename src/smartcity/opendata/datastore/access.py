"""Who may read a resource's table: public reads cover the resources of active public datasets only."""

from __future__ import annotations

from typing import Any

from smartcity.opendata.contracts import NotFound


def visible(runtime: Any, resource_id: str) -> bool:
    """Whether a resource's table may be read publicly: its resource is in an active public dataset of the
    catalogue (a portal running without the catalogue has nothing to hide)."""
    catalogue = getattr(runtime, "catalogue", None)
    if catalogue is None:
        return True
    try:
        catalogue.show_resource(resource_id)
    except NotFound:
        return False
    return True
