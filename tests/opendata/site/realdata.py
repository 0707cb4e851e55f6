"""The test datasets of :mod:`.fakes`, created through the portal's real catalogue and real datastore, with the
reference data's real departments and themes.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import FastAPI

from smartcity.opendata.catalogue.repository import SqlCatalogue
from smartcity.opendata.contracts import Dataset
from smartcity.opendata.datastore.store import TableStore
from tests.opendata.site.fakes import AIR, AIR_RESOURCE, PARKING, PARKING_RESOURCE, datasets, tables

ORGS = {"so-tnmt": "so-tai-nguyen-va-moi-truong", "so-gtvt": "so-giao-thong-van-tai"}
GROUPS = {"moi-truong": "environment", "giao-thong": "transport"}
KEPT = (AIR, PARKING, "hostile", "muc-nuoc-00", "muc-nuoc-01")


def _payload(dataset: Dataset) -> dict[str, Any]:
    resources = []
    for resource in dataset["resources"]:
        rid = resource["id"] if resource["id"] in (AIR_RESOURCE, PARKING_RESOURCE) else str(uuid.uuid4())
        resources.append({**resource, "id": rid})
    payload = {
        key: dataset[key]
        for key in ("name", "title", "title_translated", "notes", "notes_translated", "license_id")
        if key in dataset
    }
    for key in ("frequency", "temporal_start", "temporal_end", "spatial"):
        if key in dataset:
            payload[key] = dataset[key]
    payload["owner_org"] = ORGS[dataset["organization"]["name"]]
    payload["groups"] = [{"name": GROUPS[g["name"]]} for g in dataset["groups"]]
    # the catalogue refuses markup in tags (CKAN's rule); hostile titles and notes it keeps
    payload["tags"] = [{"name": t["name"]} for t in dataset["tags"] if re.fullmatch(r"[\w .\-]+", t["name"])]
    payload["resources"] = resources
    return payload


def load(app: FastAPI) -> None:
    """Create the datasets in the app's catalogue and their tables in its datastore."""
    runtime = app.state.opendata
    assert isinstance(runtime.catalogue, SqlCatalogue)
    assert isinstance(runtime.datastore, TableStore)
    for dataset in datasets():
        if dataset["name"] in KEPT:
            runtime.catalogue.create_dataset(_payload(dataset), user="site-test")
    for resource_id, table in tables().items():
        runtime.datastore.create(resource_id, table.fields)
        runtime.datastore.upsert(resource_id, iter(table.records))
