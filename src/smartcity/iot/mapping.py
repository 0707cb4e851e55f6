"""From decoded measures to entity updates: the device-to-NGSI mapping of the FIWARE IoT Agent, for NGSI-LD.

For each measure group of a message:

* the observation time is the group's ``TimeInstant`` measure, else its UltraLight timestamp, else the HTTP
  ``t`` parameter, else the time the agent received the message; a time that is not ISO 8601 is
  ``bad_timestamp``, one more than the allowed skew in the future is ``future_timestamp`` (the group is dropped);
* each measure becomes the attribute it is mapped to (``object_id`` -> ``name``), cast by its provisioned type,
  converted to the model's unit and checked against the plausibility table (:mod:`.quality`); it carries
  ``observedAt`` and ``unitCode``. A measure that fails is dropped with its reason; the group's other measures
  are kept. Unmapped measures keep their name, unless ``explicitAttrs`` (then they are ignored, as in FIWARE);
  measures named ``id`` or ``type`` are ignored;
* the model's observation-time attribute (``dateObserved`` ...) is set to the observation time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from smartcity.hub.model import RELATIONSHIP, Instance, micros_to_iso, valid_name
from smartcity.iot import jexl, quality, timestamps, values
from smartcity.iot import outcome as reasons
from smartcity.iot.binding import Binding
from smartcity.iot.inbound import Inbound
from smartcity.iot.measures import MeasureGroup
from smartcity.iot.outcome import Observation, Outcome, Problem

TIME_INSTANT = "TimeInstant"
IGNORED = frozenset({"id", "type"})


def _time(group: MeasureGroup, inbound: Inbound, binding: Binding) -> tuple[int, str]:
    given = group.measures.get(TIME_INSTANT)
    if given is None:
        given = group.timestamp if group.timestamp is not None else inbound.timestamp
    if given is None:
        return inbound.received_at, micros_to_iso(inbound.received_at)
    moment = timestamps.parse(given, binding.timezone)
    return timestamps.micros(moment), timestamps.canonical(given, moment)


def _instance(kind: str, value: Any, observed: str, unit: str | None, metadata: Mapping[str, Instance]) -> Instance:
    inst: Instance = {"type": kind}
    if kind == RELATIONSHIP:
        inst["object"] = value
    else:
        inst["value"] = value
    inst["observedAt"] = observed
    if unit is not None:
        inst["unitCode"] = unit
    if metadata:
        inst.update({name: dict(sub) for name, sub in metadata.items()})
    return inst


def expression_context(group: MeasureGroup, binding: Binding) -> dict[str, Any]:
    """What a JEXL expression reads: the group's measures by key (UltraLight text as numbers and booleans) and
    by attribute name, and the device's ``id``, ``type``, ``entity_name``, ``service``, ``subservice``."""
    context: dict[str, Any] = {
        "id": binding.device_id,
        "type": binding.entity_type,
        "entity_name": binding.entity_id,
        "service": binding.tenant,
        "subservice": binding.service_path,
    }
    for key, raw in group.measures.items():
        try:
            value = values.native(raw)
        except values.WrongType:
            continue
        context[key] = value
        spec = binding.specs.get(key)
        if spec is not None:
            context.setdefault(spec.name, value)
    return context


def _measure(
    key: str,
    raw: Any,
    binding: Binding,
    observed: str,
    index: int,
    problems: list[Problem],
    context: Callable[[], dict[str, Any]],
) -> tuple[str, str, Instance, Any] | None:
    """(name, IRI, instance, value) of one measure, or None when it is dropped (with its problem)."""
    spec = binding.spec(key)
    if spec is None:
        return None  # not provisioned and explicitAttrs: ignored, as FIWARE does
    if spec.expression is not None:
        try:
            raw = spec.expression(context())
        except jexl.JexlError as exc:
            detail = f"{spec.name}: the expression {spec.expression.source!r} failed: {exc}"
            problems.append(Problem(reasons.WRONG_TYPE, detail, key, index))
            return None
        if raw is None:
            return None  # FIWARE writes nothing for an expression that gives null
    if spec.kind is None and not valid_name(spec.name):  # provisioned names were checked at provisioning
        problems.append(Problem(reasons.INVALID_NAME, f"{spec.name!r} is not a valid attribute name", key, index))
        return None
    try:
        kind, value = values.cast(raw, spec.kind, binding.timezone)
    except values.WrongType as exc:
        problems.append(Problem(reasons.WRONG_TYPE, f"{spec.name} ({spec.kind or 'untyped'}): {exc}", key, index))
        return None
    unit = spec.unit
    if spec.rule is not None:
        try:
            value, unit = quality.check(spec.rule, value, spec.unit)
        except quality.Implausible as exc:
            problems.append(Problem(reasons.IMPLAUSIBLE, f"{spec.name}: {exc}", key, index))
            return None
        except quality.UnknownUnit as exc:
            problems.append(Problem(reasons.UNKNOWN_UNIT, f"{spec.name}: {exc}", key, index))
            return None
        except TypeError as exc:
            problems.append(Problem(reasons.WRONG_TYPE, f"{spec.name}: {exc}", key, index))
            return None
    return spec.name, spec.iri, _instance(kind, value, observed, unit, spec.metadata), value


def _not_above(
    binding: Binding, written: dict[str, tuple[str, Any]], attrs: dict[str, list[Instance]], index: int
) -> list[Problem]:
    """Counts above their capacity (free spots above the spots there are): the count is dropped."""
    problems: list[Problem] = []
    for name, limit_name in quality.NOT_ABOVE.items():
        if name not in written:
            continue
        limit = written[limit_name][1] if limit_name in written else binding.static_values.get(limit_name)
        value = written[name][1]
        if isinstance(limit, int | float) and not isinstance(limit, bool) and value > limit:
            del attrs[written[name][0]]
            detail = f"{name}: {value!r} is above {limit_name} {limit!r}"
            problems.append(Problem(reasons.IMPLAUSIBLE, detail, name, index))
    return problems


def map_group(
    group: MeasureGroup, index: int, inbound: Inbound, binding: Binding, latest: int, problems: list[Problem]
) -> Observation | None:
    """The update one measure group makes, or None (its problems appended); ``latest``: the last acceptable
    observation time (microseconds)."""
    try:
        observed_at, observed = _time(group, inbound, binding)
    except timestamps.BadTimestamp as exc:
        problems.append(Problem(reasons.BAD_TIMESTAMP, str(exc), TIME_INSTANT, index))
        return None
    if observed_at > latest:
        detail = f"the observation time {observed} is in the future (the agent allows a small clock skew only)"
        problems.append(Problem(reasons.FUTURE_TIMESTAMP, detail, TIME_INSTANT, index))
        return None
    attrs: dict[str, list[Instance]] = {}
    written: dict[str, tuple[str, Any]] = {}  # attribute name -> (IRI, value)
    before = len(problems)
    cached: list[dict[str, Any]] = []

    def context() -> dict[str, Any]:
        if not cached:
            cached.append(expression_context(group, binding))
        return cached[0]

    for key, raw in group.measures.items():
        if key == TIME_INSTANT or key in IGNORED:
            continue
        mapped = _measure(key, raw, binding, observed, index, problems, context)
        if mapped is not None:
            name, iri, inst, value = mapped
            attrs[iri] = [inst]
            written[name] = (iri, value)
    problems.extend(_not_above(binding, written, attrs, index))
    if not attrs:
        if len(problems) == before:
            problems.append(Problem(reasons.EMPTY, "the measure group holds no measure to write", None, index))
        return None
    if binding.observation_time is not None:
        name, iri = binding.observation_time
        if iri not in attrs:
            attrs[iri] = [{"type": "Property", "value": observed, "observedAt": observed}]
    values_by_name = {name: value for name, (iri, value) in written.items() if iri in attrs}
    return Observation(binding, observed_at, observed, attrs, values_by_name)


def map_message(inbound: Inbound, binding: Binding, latest: int) -> Outcome:
    """The outcome of a decoded message of a known device (see :mod:`smartcity.iot.outcome`)."""
    result = Outcome(inbound, binding)
    for index, group in enumerate(inbound.groups):
        observation = map_group(group, index, inbound, binding, latest, result.problems)
        if observation is not None:
            result.observations.append(observation)
    return result
