"""The catalogue's CKAN actions: packages, resources, organisations, groups, tags, licences, status and help.

Each is registered with :func:`smartcity.opendata.ckan.registry.action`; the first line of its docstring is its
summary in the OpenAPI document and ``help_show`` returns the whole docstring.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Mapping
from typing import Any

from smartcity import __version__
from smartcity.opendata.catalogue.folding import fold
from smartcity.opendata.ckan import params as p
from smartcity.opendata.ckan.query import search_query
from smartcity.opendata.ckan.registry import ACTIONS, ActionContext, action
from smartcity.opendata.contracts import NotFound, ValidationFailed

CKAN_VERSION = "2.10.4"
SITE_TITLE = "Dữ liệu mở Thành phố Hồ Chí Minh"
SITE_DESCRIPTION = "Dữ liệu mở của Thành phố Hồ Chí Minh / Ho Chi Minh City open data"
FACET_TITLES = {
    "organization": "Organizations",
    "groups": "Groups",
    "tags": "Tags",
    "res_format": "Formats",
    "license_id": "Licenses",
    "frequency": "Update frequency",
    "owner_org": "Organizations",
}


def _catalogue(ctx: ActionContext) -> Any:
    return ctx.runtime.catalogue


# -- packages -------------------------------------------------------------------------------------------------


@action("package_search")
def package_search(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Search datasets: full text (Vietnamese with or without diacritics), filters, sorting and facets.

    Parameters: ``q``, ``fq`` (``field:value``), ``fq_list``, ``rows`` (at most 1000), ``start``, ``sort``
    (``score desc, metadata_modified desc`` by default), ``facet``, ``facet.field`` (a JSON list),
    ``facet.limit``, ``facet.mincount``, ``include_private`` (publishers only). Returns ``count``,
    ``results``, ``facets`` and ``search_facets``.
    """
    query = search_query(params, may_see_private=ctx.may_write)
    found = _catalogue(ctx).search(query)
    titles = _catalogue(ctx).titles()
    licences = {lic["id"]: lic["title"] for lic in _catalogue(ctx).licenses()}
    search_facets: dict[str, Any] = {}
    for field, counts in found.facets.items():
        names = titles if field in ("organization", "groups") else licences if field == "license_id" else {}
        items = [{"name": v, "display_name": names.get(v, v), "count": n} for v, n in counts.items()]
        search_facets[field] = {"title": field, "items": items}
    sort = ", ".join(f"{f} {d}" for f, d in query.sort) or "score desc, metadata_modified desc"
    return {
        "count": found.count,
        "results": found.results,
        "sort": sort,
        "facets": {field: dict(counts) for field, counts in found.facets.items()},
        "search_facets": search_facets,
    }


@action("package_show")
def package_show(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return a dataset (its metadata and resources) by id or name."""
    result: dict[str, Any] = _catalogue(ctx).show_dataset(p.required(params, "id"), include_private=ctx.may_write)
    return result


@action("package_list")
def package_list(ctx: ActionContext, params: Mapping[str, Any]) -> list[str]:
    """Return the names of the site's public datasets, sorted; ``limit`` and ``offset`` page them."""
    limit = params.get("limit")
    names: list[str] = _catalogue(ctx).list_datasets(
        limit=None if limit in (None, "") else p.integer(params, "limit", 0), offset=p.integer(params, "offset", 0)
    )
    return names


@action("package_create", write=True)
def package_create(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Create a dataset (publishers only): ``name``, ``title``, ``owner_org`` and the other CKAN fields,
    ``title_translated``/``notes_translated`` in vi and en, ``frequency``, ``temporal_start``/``temporal_end``,
    ``spatial`` (GeoJSON) and ``resources``. Returns the created dataset."""
    result: dict[str, Any] = _catalogue(ctx).create_dataset(params, user=ctx.user)
    return result


@action("package_update", write=True)
def package_update(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Replace a dataset's metadata (publishers only); without ``resources`` its resources stay as they are."""
    result: dict[str, Any] = _catalogue(ctx).update_dataset(params, user=ctx.user)
    return result


@action("package_patch", write=True)
def package_patch(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields of a dataset, keeping the others (publishers only)."""
    result: dict[str, Any] = _catalogue(ctx).patch_dataset(params, user=ctx.user)
    return result


@action("package_delete", write=True)
def package_delete(ctx: ActionContext, params: Mapping[str, Any]) -> None:
    """Delete a dataset (its state becomes ``deleted``; publishers only)."""
    _catalogue(ctx).delete_dataset(p.required(params, "id"), user=ctx.user)


@action("resource_show")
def resource_show(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return a resource by id."""
    result: dict[str, Any] = _catalogue(ctx).show_resource(p.required(params, "id"), include_private=ctx.may_write)
    return result


# -- organisations and groups ------------------------------------------------------------------------------------


def _party_list(found: list[dict[str, Any]], params: Mapping[str, Any]) -> list[Any]:
    wanted = p.string_list(params, "organizations") or p.string_list(params, "groups")
    if wanted:
        found = [d for d in found if d["name"] in wanted]
    sort = p.text(params, "sort", "title asc").split()
    field = sort[0] if sort else "title"
    if field not in ("name", "title", "package_count"):
        raise _bad_sort(field)
    reverse = len(sort) > 1 and sort[1].lower() == "desc"
    found = sorted(found, key=lambda d: (fold(d[field]) if field == "title" else d[field], d["name"]), reverse=reverse)
    offset = p.integer(params, "offset", 0)
    limit = params.get("limit")
    end = None if limit in (None, "") else offset + p.integer(params, "limit", 0)
    found = found[offset:end]
    if p.boolean(params, "all_fields", False):
        if not p.boolean(params, "include_dataset_count", True):
            return [{k: v for k, v in d.items() if k != "package_count"} for d in found]
        return found
    return [d["name"] for d in found]


def _bad_sort(field: str) -> Exception:
    return ValidationFailed(f"sort: cannot sort by {field}", {"sort": [f"Cannot sort by field {field}"]})


@action("organization_list")
def organization_list(ctx: ActionContext, params: Mapping[str, Any]) -> list[Any]:
    """Return the organisations (the city's departments): names, or dictionaries with ``all_fields``."""
    return _party_list(_catalogue(ctx).organizations(all_fields=True), params)


@action("organization_show")
def organization_show(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return an organisation by id or name; ``include_datasets`` adds its public datasets."""
    result: dict[str, Any] = _catalogue(ctx).show_organization(
        p.required(params, "id"),
        include_datasets=p.boolean(params, "include_datasets", False),
        include_deleted=ctx.may_write,
    )
    return result


@action("group_list")
def group_list(ctx: ActionContext, params: Mapping[str, Any]) -> list[Any]:
    """Return the groups (themes: transport, environment, flood, health, ...): names, or dictionaries."""
    return _party_list(_catalogue(ctx).groups(all_fields=True), params)


@action("group_show")
def group_show(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return a group by id or name; ``include_datasets`` adds its public datasets."""
    result: dict[str, Any] = _catalogue(ctx).show_group(
        p.required(params, "id"),
        include_datasets=p.boolean(params, "include_datasets", False),
        include_deleted=ctx.may_write,
    )
    return result


@action("organization_create", write=True)
def organization_create(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Create an organisation (a city department; publishers only): ``name`` (lowercase letters, digits, ``-``
    and ``_``, 2 to 100 characters), ``title``, ``description``, ``image_url``, ``title_translated`` and
    ``description_translated`` in vi and en, ``extras``. Returns the created organisation."""
    result: dict[str, Any] = _catalogue(ctx).create_organization(params, user=ctx.user)
    return result


@action("organization_update", write=True)
def organization_update(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Replace an organisation's fields (publishers only); its datasets show the change at once."""
    result: dict[str, Any] = _catalogue(ctx).update_organization(params, user=ctx.user)
    return result


@action("organization_patch", write=True)
def organization_patch(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields of an organisation, keeping the others (publishers only)."""
    result: dict[str, Any] = _catalogue(ctx).patch_organization(params, user=ctx.user)
    return result


@action("organization_delete", write=True)
def organization_delete(ctx: ActionContext, params: Mapping[str, Any]) -> None:
    """Delete an organisation (its state becomes ``deleted``; publishers only). Refused with a Validation Error
    while it still owns datasets that are not deleted, as CKAN 2.10 does."""
    _catalogue(ctx).delete_organization(p.required(params, "id"), user=ctx.user)


@action("group_create", write=True)
def group_create(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Create a group (a theme; publishers only): the same fields as ``organization_create``. Datasets join it
    through their own ``groups``."""
    result: dict[str, Any] = _catalogue(ctx).create_group(params, user=ctx.user)
    return result


@action("group_update", write=True)
def group_update(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Replace a group's fields (publishers only); its datasets show the change at once."""
    result: dict[str, Any] = _catalogue(ctx).update_group(params, user=ctx.user)
    return result


@action("group_patch", write=True)
def group_patch(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields of a group, keeping the others (publishers only)."""
    result: dict[str, Any] = _catalogue(ctx).patch_group(params, user=ctx.user)
    return result


@action("group_delete", write=True)
def group_delete(ctx: ActionContext, params: Mapping[str, Any]) -> None:
    """Delete a group (its state becomes ``deleted`` and its datasets leave it, as CKAN 2.10 does; publishers
    only)."""
    _catalogue(ctx).delete_group(p.required(params, "id"), user=ctx.user)


# -- tags, licences, status, help ---------------------------------------------------------------------------------


@action("tag_list")
def tag_list(ctx: ActionContext, params: Mapping[str, Any]) -> list[Any]:
    """Return the tags of public datasets; ``query`` keeps those containing it (with or without diacritics)."""
    names: list[str] = _catalogue(ctx).tags(query=p.text(params, "query") or None)
    if p.boolean(params, "all_fields", False):
        dicts: list[Any] = _catalogue(ctx).tag_dicts(names)
        return dicts
    return list(names)


@action("license_list")
def license_list(ctx: ActionContext, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the licences datasets may be published under."""
    result: list[dict[str, Any]] = _catalogue(ctx).licenses()
    return result


def _extensions() -> list[str]:
    found = ["fluent", "scheming_datasets"]
    if "datastore_search" in ACTIONS:
        found.append("datastore")
    if importlib.util.find_spec("smartcity.opendata.dcat") is not None:
        found.append("dcat")
    return found


@action("status_show")
def status_show(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the site's status: the CKAN version it answers as, its title, URL and extensions."""
    return {
        "ckan_version": CKAN_VERSION,
        "site_url": ctx.base_url,
        "site_title": SITE_TITLE,
        "site_description": SITE_DESCRIPTION,
        "error_emails_to": None,
        "locale_default": "vi",
        "extensions": _extensions(),
        "smartcity_version": __version__,
    }


@action("help_show")
def help_show(ctx: ActionContext, params: Mapping[str, Any]) -> str:
    """Return the documentation of the action ``name``."""
    name = p.required(params, "name")
    found = ACTIONS.get(name)
    if found is None:
        raise NotFound(f"Action function not found: {name}")
    return inspect.cleandoc(found.fn.__doc__ or found.help)
