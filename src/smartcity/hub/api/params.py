"""Query parameters of NGSI-LD requests, parsed and expanded into an :class:`EntityQuery`."""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.hub import geo, qlang, typesel
from smartcity.hub.errors import BadRequestData
from smartcity.hub.jsonld import ResolvedContext
from smartcity.hub.model import is_uri, valid_name
from smartcity.hub.query import DEFAULT_LIMIT, MAX_LIMIT, EntityQuery
from smartcity.hub.regex import regex_problem
from smartcity.hub.store.qsql import META_MEMBERS

OPTIONS = frozenset(
    {"keyValues", "sysAttrs", "normalized", "concise", "noOverwrite", "update", "replace", "simplified"}
)
FORMATS = {
    "simplified": "keyValues",
    "keyValues": "keyValues",
    "normalized": "normalized",
    "concise": "normalized",
}


#: the largest offset the SQL engines can take (a signed 64-bit integer)
MAX_OFFSET = 2**63 - 1


@dataclass(frozen=True)
class Rendering:
    """How entities are rendered in a response."""

    key_values: bool = False
    sys_attrs: bool = False
    pick: frozenset[str] | None = None
    lang: str | None = None


def split_list(value: str | None, what: str) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",")]
    if not all(items):
        raise BadRequestData(f"'{what}' has an empty item")
    return items


def parse_options(options: str | None, fmt: str | None = None) -> set[str]:
    found = set(split_list(options, "options") or [])
    unknown = found - OPTIONS
    if unknown:
        raise BadRequestData(f"unknown option(s): {', '.join(sorted(unknown))}")
    if fmt is not None:
        if fmt not in FORMATS:
            raise BadRequestData(f"unknown format {fmt!r}: use normalized, concise, simplified or keyValues")
        found.add(FORMATS[fmt])
    if "simplified" in found:
        found.add("keyValues")
    return found


def expand_attr_list(value: str | None, ctx: ResolvedContext) -> list[str] | None:
    names = split_list(value, "attrs")
    if names is None:
        return None
    for name in names:
        if not valid_name(name):
            raise BadRequestData(f"attribute name {name!r} is not valid")
    return [ctx.expand_term(n) for n in names]


def rendering(
    ctx: ResolvedContext, *, options: str | None, fmt: str | None, attrs: str | None, lang: str | None = None
) -> Rendering:
    opts = parse_options(options, fmt)
    picked = expand_attr_list(attrs, ctx)
    return Rendering(
        key_values="keyValues" in opts,
        sys_attrs="sysAttrs" in opts,
        pick=frozenset(picked) if picked is not None else None,
        lang=lang,
    )


def parse_int(value: str | None, name: str, default: int, *, low: int, high: int | None = None) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise BadRequestData(f"'{name}' must be an integer, not {value!r}") from exc
    if number < low or (high is not None and number > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadRequestData(f"'{name}' must be {bound}, not {number}")
    return number


def expand_q(text: str, ctx: ResolvedContext) -> qlang.Node:
    try:
        node = qlang.parse_q(text)
    except qlang.QuerySyntaxError as exc:
        raise BadRequestData(f"invalid q: {exc}") from exc
    _check_q_patterns(node)

    def expand(path: qlang.AttrPath) -> qlang.AttrPath:
        subs = tuple(s if s in META_MEMBERS else ctx.expand_term(s) for s in path.sub)
        return qlang.AttrPath(ctx.expand_term(path.attr), subs, path.keys)

    return qlang.map_paths(node, expand)


def expand_types(text: str, ctx: ResolvedContext) -> typesel.TypeExpr:
    try:
        expr = typesel.parse_types(text)
    except typesel.TypeSelectionError as exc:
        raise BadRequestData(f"invalid type selection: {exc}") from exc
    return typesel.map_names(expr, ctx.expand_term)


def parse_geoquery(
    georel: str | None,
    geometry: str | None,
    coordinates: str | None,
    geoproperty: str | None,
    ctx: ResolvedContext,
) -> geo.GeoQuery | None:
    given = [p is not None for p in (georel, geometry, coordinates)]
    if not any(given):
        return None
    if not all(given):
        raise BadRequestData("a geo-query needs all of georel, geometry and coordinates")
    assert georel is not None and geometry is not None and coordinates is not None
    try:
        rel = geo.parse_georel(georel)
        shape = geo.parse_query_geometry(geometry, coordinates)
    except geo.GeoError as exc:
        raise BadRequestData(f"invalid geo-query: {exc}") from exc
    prop = geoproperty or "location"
    if not valid_name(prop):
        raise BadRequestData(f"geoproperty {prop!r} is not valid")
    return geo.GeoQuery(georel=rel, geometry=shape, geoproperty=ctx.expand_term(prop))


def check_id(entity_id: str) -> str:
    if not is_uri(entity_id):
        raise BadRequestData(f"entity id {entity_id!r} is not a URI")
    return entity_id


def check_pattern(pattern: str) -> str:
    problem = regex_problem(pattern)
    if problem is not None:
        raise BadRequestData(f"idPattern cannot be used: {problem}")
    return pattern


def _check_q_patterns(node: qlang.Node) -> None:
    if isinstance(node, qlang.And | qlang.Or):
        for term in node.terms:
            _check_q_patterns(term)
    elif isinstance(node, qlang.Pattern):
        problem = regex_problem(node.regex)
        if problem is not None:
            raise BadRequestData(f"invalid q: the pattern {node.regex!r} cannot be used: {problem}")


def build_query(
    ctx: ResolvedContext,
    *,
    type_: str | None = None,
    ids: str | None = None,
    id_pattern: str | None = None,
    attrs: str | None = None,
    q: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
    count: str | None = None,
) -> EntityQuery:
    id_list = split_list(ids, "id")
    if id_list is not None:
        for entity_id in id_list:
            check_id(entity_id)
    attr_list = expand_attr_list(attrs, ctx)
    if count not in (None, "true", "false"):
        raise BadRequestData("'count' must be true or false")
    return EntityQuery(
        types=expand_types(type_, ctx) if type_ is not None else None,
        ids=tuple(id_list) if id_list is not None else None,
        id_pattern=check_pattern(id_pattern) if id_pattern is not None else None,
        attrs=tuple(attr_list) if attr_list is not None else None,
        q=expand_q(q, ctx) if q is not None else None,
        geo=parse_geoquery(georel, geometry, coordinates, geoproperty, ctx),
        limit=parse_int(limit, "limit", DEFAULT_LIMIT, low=0, high=MAX_LIMIT),
        offset=parse_int(offset, "offset", 0, low=0, high=MAX_OFFSET),
        count=count == "true",
    )
