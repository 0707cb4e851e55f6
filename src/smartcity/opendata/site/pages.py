"""What each page shows, read from the catalogue and the datastore (blocking: run in a worker thread).

Each function returns the template's variables; the catalogue's errors (:class:`NotFound`, :class:`SearchError`)
rise to the edge, which answers them with the site's error pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartcity.opendata.contracts import Catalogue, Datastore, NotFound, SearchQuery
from smartcity.opendata.site import dataset as content
from smartcity.opendata.site import i18n
from smartcity.opendata.site import search as searching
from smartcity.opendata.site.i18n import Lang, localized

LISTED = 20  # datasets shown on an organisation's or a theme's page


def _named(items: list[Any], lang: Lang) -> dict[str, str]:
    """name -> title in ``lang`` of organisation_list / group_list results (names alone or full dicts)."""
    out: dict[str, str] = {}
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            out[item["name"]] = localized(item, "title", lang) or str(item.get("display_name") or item["name"])
    return out


def licences(catalogue: Catalogue) -> dict[str, dict[str, Any]]:
    return {str(item["id"]): item for item in catalogue.licenses() if isinstance(item, Mapping) and "id" in item}


def facet_labels(catalogue: Catalogue, lang: Lang) -> dict[str, dict[str, str]]:
    found = {lid: str(item.get("title") or lid) for lid, item in licences(catalogue).items()}
    return {
        "organization": _named(catalogue.organizations(all_fields=True), lang),
        "groups": _named(catalogue.groups(all_fields=True), lang),
        "license_id": found,
    }


def summary(dataset: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """A dataset as a search result lists it."""
    organization = dataset.get("organization")
    formats = sorted(
        {
            str(r.get("format")).upper()
            for r in dataset.get("resources") or ()
            if isinstance(r, Mapping) and r.get("format")
        }
    )
    notes = localized(dataset, "notes", lang)
    return {
        "name": str(dataset.get("name") or dataset.get("id") or ""),
        "title": localized(dataset, "title", lang) or str(dataset.get("name") or ""),
        "notes": notes if len(notes) <= 280 else notes[:279] + "…",
        "organization": localized(organization, "title", lang) if isinstance(organization, Mapping) else "",
        "formats": formats,
        "modified": i18n.show_date(dataset.get("metadata_modified"), lang),
        "private": dataset.get("private") is True,
        "modelled": modelled(dataset),
    }


def modelled(dataset: Mapping[str, Any]) -> bool:
    """Whether the publisher marked the data as modelled (synthetic): the site says so wherever it shows it."""
    value = i18n.field(dataset, "modelled")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def search_page(catalogue: Catalogue, state: searching.SearchState, lang: Lang) -> dict[str, Any]:
    result = catalogue.search(state.query())
    labels = facet_labels(catalogue, lang)
    return {
        "state": state,
        "count": result.count,
        "results": [summary(d, lang) for d in result.results],
        "facets": searching.facets(state, result.facets, labels),
        "labels": labels,
        "page": state.page,
        "pages": searching.pages(state, result.count),
        "sorts": list(searching.SORTS),
    }


def _terms(items: Any, kind: str, lang: Lang) -> list[dict[str, str]]:
    """A dataset's groups or tags: name and label, each linked to the search filtered by it."""
    out: list[dict[str, str]] = []
    for item in items or ():
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            name = item["name"]
            label = localized(item, "title", lang) or str(item.get("display_name") or name)
        elif isinstance(item, str):
            name = label = item
        else:
            continue
        out.append({"name": name, "label": label, "url": searching.SearchState(filters=((kind, name),)).url()})
    return out


def _geometry_of(datastore: Datastore | None, resources: list[Any]) -> dict[str, bool]:
    found: dict[str, bool] = {}
    if datastore is None:
        return found
    for resource in resources[:20]:
        if isinstance(resource, Mapping) and content.in_datastore(resource) and isinstance(resource.get("id"), str):
            try:
                found[resource["id"]] = datastore.stats(resource["id"]).has_geometry
            except Exception:  # the preview of this resource says why; the GeoJSON link is simply left out
                found[resource["id"]] = False
    return found


def dataset_page(
    catalogue: Catalogue, datastore: Datastore | None, name: str, chosen: str | None, lang: Lang
) -> dict[str, Any]:
    dataset = catalogue.show_dataset(name)
    if dataset.get("state") not in (None, "active"):
        raise NotFound(f"dataset {name} is not active")
    listed = [r for r in dataset.get("resources") or () if isinstance(r, Mapping)]
    resources = content.resources(dataset, lang, _geometry_of(datastore, listed))
    stored = [r for r in resources if r.datastore]
    selected = next((r for r in stored if r.id == chosen), stored[0] if stored else None)
    exploration = content.explore(datastore, selected.id, lang) if selected is not None else None
    organization = dataset.get("organization")
    license_id = str(dataset.get("license_id") or "")
    licence = licences(catalogue).get(license_id, {}) if license_id else {}
    license_url = dataset.get("license_url") or licence.get("url") or ""
    start = i18n.field(dataset, "temporal_start")
    end = i18n.field(dataset, "temporal_end")
    return {
        "dataset": dataset,
        "name": str(dataset.get("name") or name),
        "id": str(dataset.get("id") or name),
        "title": localized(dataset, "title", lang) or str(dataset.get("name") or name),
        "notes": [p.strip() for p in localized(dataset, "notes", lang).split("\n\n") if p.strip()],
        "organization": (
            {
                "name": str(organization.get("name") or ""),
                "title": localized(organization, "title", lang) or str(organization.get("name") or ""),
            }
            if isinstance(organization, Mapping)
            else None
        ),
        "groups": _terms(dataset.get("groups"), "groups", lang),
        "tags": _terms(dataset.get("tags"), "tags", lang),
        "license": {
            "id": license_id,
            "title": str(dataset.get("license_title") or licence.get("title") or license_id),
            "url": license_url if isinstance(license_url, str) and license_url.startswith(("http", "/")) else "",
        },
        "temporal": (i18n.show_date(start, lang), i18n.show_date(end, lang)) if start or end else None,
        "spatial_text": localized(dataset, "spatial_text", lang),
        "spatial": content.spatial(dataset),
        "frequency": i18n.frequency(i18n.field(dataset, "frequency"), lang),
        "modified": i18n.show_time(dataset.get("metadata_modified"), lang),
        "created": i18n.show_time(dataset.get("metadata_created"), lang),
        "version": str(dataset.get("version") or ""),
        "modelled": modelled(dataset),
        "resources": resources,
        "selected": selected,
        "exploration": exploration,
    }


def listing_page(catalogue: Catalogue, kind: str, name: str, lang: Lang) -> dict[str, Any]:
    """An organisation's or a theme's page: who or what it is and its latest datasets."""
    facet = "organization" if kind == "organization" else "groups"
    shown = catalogue.show_organization(name) if kind == "organization" else catalogue.show_group(name)
    real = str(shown.get("name") or name)
    result = catalogue.search(SearchQuery(fq=((facet, real),), rows=LISTED, sort=(("metadata_modified", "desc"),)))
    return {
        "kind": kind,
        "name": real,
        "title": localized(shown, "title", lang) or real,
        "description": [p.strip() for p in localized(shown, "description", lang).split("\n\n") if p.strip()],
        "count": result.count,
        "results": [summary(d, lang) for d in result.results],
        "all_url": searching.SearchState(filters=((facet, real),)).url(),
    }


def index_page(catalogue: Catalogue, kind: str, lang: Lang) -> dict[str, Any]:
    """Every organisation or every theme, with its number of datasets."""
    items = catalogue.organizations(all_fields=True) if kind == "organization" else catalogue.groups(all_fields=True)
    facet = "organization" if kind == "organization" else "groups"
    counts = catalogue.search(SearchQuery(rows=0, facet_fields=(facet,), facet_limit=-1)).facets.get(facet, {})
    entries = []
    for item in items:
        name = item.get("name") if isinstance(item, Mapping) else item
        if not isinstance(name, str):
            continue
        title = localized(item, "title", lang) if isinstance(item, Mapping) else name
        entries.append({"name": name, "title": title or name, "count": int(counts.get(name, 0))})
    entries.sort(key=lambda e: str(e["title"]).casefold())
    return {"kind": kind, "entries": entries}
