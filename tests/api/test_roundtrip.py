"""Property: an entity POSTed to the broker reads back exactly as posted (minus system attributes), for
Property values of every JSON shape, Relationships, GeoProperty points, LanguageProperties, sub-attributes
and datasetId multi-attributes, on both storage backends."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.api.support import ENTITIES, entity_url, without_system

_ids = itertools.count()

# Names that are valid NGSI-LD attribute names and not reserved anywhere (no core term, no member keyword).
RESERVED = {
    "id",
    "type",
    "value",
    "object",
    "languageMap",
    "observedAt",
    "unitCode",
    "datasetId",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "objectType",
    "instanceId",
    "scope",
    "location",
    "observationSpace",
    "operationSpace",
    "lang",
    "vocab",
    "json",
    "jsonValue",
    "title",
}
names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", min_size=1, max_size=12
).filter(lambda n: n[0].isalpha() and n not in RESERVED and ":" not in n)
dataset_ids = st.builds(lambda n: f"urn:ngsi-ld:Dataset:{n}", st.integers(0, 10_000))
uris = st.builds(
    lambda kind, n: f"urn:ngsi-ld:{kind}:{n}", st.sampled_from(["Person", "Device", "Road"]), st.integers(0, 99)
)
text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)

scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(names, inner, max_size=4),
    ),
    max_leaves=12,
)
# a Property value is any JSON except null; an object value must not look like an attribute or GeoJSON
property_values = json_values.filter(
    lambda v: not (isinstance(v, dict) and ({"type", "value", "object", "languageMap", "@type", "@value"} & set(v)))
)
# Coordinates at GeoJSON's customary precision (7 decimals, about 1 cm): positions with sub-1e-150 extents
# trip a separate PostgreSQL bug (test_geo_queries.py::test_points_with_tiny_extents_can_be_indexed).
lon = st.floats(-180, 180, allow_nan=False).map(lambda v: round(v, 7))
lat = st.floats(-90, 90, allow_nan=False).map(lambda v: round(v, 7))
points = st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, lon, lat)
language_maps = st.dictionaries(st.sampled_from(["vi", "en", "fr", "zh-Hans", "@none"]), text, min_size=1, max_size=3)
timestamps = st.sampled_from(["2024-05-01T08:00:00Z", "2024-05-01T15:00:00+07:00", "2023-12-31T23:59:59.123456Z"])


def _instance(kind: str, payload: Any, extra: dict[str, Any]) -> dict[str, Any]:
    member = {"Property": "value", "Relationship": "object", "GeoProperty": "value", "LanguageProperty": "languageMap"}
    return {"type": kind, member[kind]: payload, **extra}


leaf_instances = st.one_of(
    st.tuples(st.just("Property"), property_values),
    st.tuples(st.just("Relationship"), uris),
    st.tuples(st.just("GeoProperty"), points),
    st.tuples(st.just("LanguageProperty"), language_maps),
)
metadata = st.fixed_dictionaries(
    {},
    optional={"observedAt": timestamps, "unitCode": st.sampled_from(["CEL", "MTR", "KMH", "C62"])},
)


@st.composite
def instances(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    kind, payload = draw(leaf_instances)
    extra: dict[str, Any] = draw(metadata)
    if depth < 2:
        for sub in draw(st.lists(names, max_size=2, unique=True)):
            extra[sub] = draw(instances(depth + 1))
    return _instance(kind, payload, extra)


@st.composite
def attributes(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return draw(instances())
    # a multi-attribute: distinct datasetIds, with or without a default instance
    datasets = draw(st.lists(dataset_ids, min_size=1, max_size=3, unique=True))
    out = [{**draw(instances()), "datasetId": ds} for ds in datasets]
    if draw(st.booleans()):
        out.append(draw(instances()))
    return out


entity_bodies = st.builds(
    lambda type_, attrs: {"type": type_, **attrs},
    st.one_of(names, st.lists(names, min_size=2, max_size=3, unique=True)),
    st.dictionaries(names, attributes(), max_size=5),
)


def numbers_as_floats(value: Any) -> Any:
    """JSON has one number type: 1 and 1.0 (or 6.2e16 and 62000000000000000) are the same value.

    PostgreSQL's jsonb keeps numbers as decimals, so a float with an integral value may come back written as
    an integer; the value is compared, not the spelling.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {k: numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_floats(v) for v in value]
    return value


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=entity_bodies)
def test_posted_entity_reads_back_exactly(client: TestClient, body: dict[str, Any]) -> None:
    entity = {"id": f"urn:ngsi-ld:Thing:{next(_ids)}", **body}
    # an attribute with one instance is rendered as that instance, not as a one-item array
    expected = {k: v[0] if isinstance(v, list) and len(v) == 1 and k != "type" else v for k, v in entity.items()}
    created = client.post(ENTITIES, json=entity)
    assert created.status_code == 201, created.text
    read = client.get(entity_url(entity["id"]), params={"options": "sysAttrs"})
    assert read.status_code == 200, read.text
    got = read.json()
    assert got["createdAt"] == got["modifiedAt"]
    assert numbers_as_floats(without_system(got)) == numbers_as_floats(expected)
    # the same through a query by id, in the normalized form
    found = client.get(ENTITIES, params={"id": entity["id"]})
    assert numbers_as_floats(found.json()) == [numbers_as_floats(expected)]
