"""The HCMC bus network of April 2024 (operator API apicms.ebms.vn via PhKhang/HCMC-Bus-Routes).

4,397 stops become ``PublicTransportStop`` entities and the 297 route variants (a route's outbound and inbound
runs) ``PublicTransportRoute`` entities with their real polylines and ordered stops. Stop addresses use the
district and ward names in force before the 2025 merger, as published. A route variant is known by the pair
(RouteId, RouteVarId): RouteVarId alone repeats across routes.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smartcity.demo import sources

BUS = 3  # GTFS route_type for bus, as Smart Data Models' transportationType uses it
PROVIDER = "HCMC public transport operator data (EBMS, apicms.ebms.vn), captured 2024-04-04"


@dataclass(frozen=True)
class Stop:
    stop_id: int
    code: str
    name: str
    stop_type: str
    zone: str
    ward: str
    address_no: str
    street: str
    accessible: bool
    status: str
    lon: float
    lat: float
    routes: tuple[str, ...]  # route numbers as the source lists them


@dataclass(frozen=True)
class RouteVar:
    route_id: int
    var_id: int
    name: str
    short_name: str
    route_no: str
    start_stop: str
    end_stop: str
    distance_m: float
    outbound: bool
    running_min: float

    @property
    def key(self) -> tuple[int, int]:
        return (self.route_id, self.var_id)

    @property
    def speed_kmh(self) -> float:
        """The scheduled mean speed: distance over running time."""
        return self.distance_m / self.running_min * 0.06


def stop_entity_id(stop_id: int) -> str:
    return f"urn:ngsi-ld:PublicTransportStop:HCMC:{stop_id}"


def route_entity_id(key: tuple[int, int]) -> str:
    return f"urn:ngsi-ld:PublicTransportRoute:HCMC:{key[0]}-{key[1]}"


def read_stops(rows: Iterable[dict[str, str]]) -> list[Stop]:
    return [
        Stop(
            stop_id=int(r["StopId"]),
            code=r["Code"].strip(),
            name=r["Name"].strip(),
            stop_type=r["StopType"].strip(),
            zone=r["Zone"].strip(),
            ward=r["Ward"].strip(),
            address_no=r["AddressNo"].strip(),
            street=r["Street"].strip(),
            accessible=r["SupportDisability"].strip() == "Có",
            status=r["Status"].strip(),
            lon=float(r["Lng"]),
            lat=float(r["Lat"]),
            routes=tuple(x.strip() for x in r["Routes"].split(",") if x.strip()),
        )
        for r in rows
    ]


def read_route_vars(lines: Iterable[Any]) -> list[RouteVar]:
    """Route variants; the file has one line per route (a list of its variants, sometimes empty)."""
    out = []
    for variants in lines:
        for v in variants:
            out.append(
                RouteVar(
                    route_id=int(v["RouteId"]),
                    var_id=int(v["RouteVarId"]),
                    name=str(v["RouteVarName"]),
                    short_name=str(v["RouteVarShortName"]),
                    route_no=str(v["RouteNo"]),
                    start_stop=str(v["StartStop"]),
                    end_stop=str(v["EndStop"]),
                    distance_m=float(v["Distance"]),
                    outbound=bool(v["Outbound"]),
                    running_min=float(v["RunningTime"]),
                )
            )
    return out


def read_paths(lines: Iterable[Any]) -> dict[tuple[int, int], list[tuple[float, float]]]:
    """Each variant's polyline as (lon, lat) positions."""
    return {
        (int(p["RouteId"]), int(p["RouteVarId"])): list(zip(map(float, p["lng"]), map(float, p["lat"]), strict=True))
        for p in lines
    }


def read_stop_sequences(lines: Iterable[Any]) -> dict[tuple[int, int], list[int]]:
    """Each variant's stops in running order."""
    return {(int(s["RouteId"]), int(s["RouteVarId"])): [int(x["StopId"]) for x in s["Stops"]] for s in lines}


@dataclass(frozen=True)
class Network:
    stops: list[Stop]
    route_vars: list[RouteVar]
    paths: dict[tuple[int, int], list[tuple[float, float]]]
    sequences: dict[tuple[int, int], list[int]]


def load() -> Network:
    return Network(
        read_stops(csv.DictReader(io.StringIO(sources.text_of(sources.BUS_STOPS), newline=""))),
        read_route_vars(sources.json_lines(sources.BUS_ROUTE_VARS)),
        read_paths(sources.json_lines(sources.BUS_PATHS)),
        read_stop_sequences(sources.json_lines(sources.BUS_STOPS_BY_VAR)),
    )


def _provenance(what: str) -> dict[str, Any]:
    return sources.provenance(PROVIDER, sources.REPO_BUS, modelled=False, description=what)


def stop_entities(network: Network) -> list[dict[str, Any]]:
    serving: dict[int, list[str]] = defaultdict(list)
    for key, stop_ids in network.sequences.items():
        for stop_id in dict.fromkeys(stop_ids):
            serving[stop_id].append(route_entity_id(key))
    out = []
    for s in network.stops:
        street = " ".join(part for part in (s.address_no, s.street) if part)
        address = {"streetAddress": street, "addressRegion": s.zone, "addressCountry": "VN"}
        if s.ward:
            address["addressLocality"] = s.ward
        body: dict[str, Any] = {
            "id": stop_entity_id(s.stop_id),
            "type": "PublicTransportStop",
            "name": {"type": "Property", "value": s.name},
            "stopCode": {"type": "Property", "value": s.code},
            "stopType": {"type": "Property", "value": s.stop_type},
            "status": {"type": "Property", "value": s.status},
            "address": {"type": "Property", "value": address},
            "location": {"type": "GeoProperty", "value": sources.point(s.lon, s.lat)},
            "transportationType": {"type": "Property", "value": [BUS]},
            "wheelChairAccessible": {"type": "Property", "value": "1" if s.accessible else "0"},
            "routeNumbers": {"type": "Property", "value": list(s.routes)},
        }
        if serving.get(s.stop_id):
            body["refPublicTransportRoute"] = {"type": "Relationship", "object": serving[s.stop_id]}
        body.update(_provenance("Real bus stop (April 2024); address in pre-2025 district and ward names."))
        out.append(body)
    return out


def route_entities(network: Network) -> list[dict[str, Any]]:
    out = []
    for v in network.route_vars:
        body: dict[str, Any] = {
            "id": route_entity_id(v.key),
            "type": "PublicTransportRoute",
            "name": {"type": "Property", "value": v.name},
            "shortRouteCode": {"type": "Property", "value": v.route_no},
            "routeCode": {"type": "Property", "value": f"{v.route_no}/{v.var_id}"},
            "direction": {"type": "Property", "value": "outbound" if v.outbound else "inbound"},
            "startStopName": {"type": "Property", "value": v.start_stop},
            "endStopName": {"type": "Property", "value": v.end_stop},
            "distance": {"type": "Property", "value": round(v.distance_m, 1), "unitCode": "MTR"},
            "runningTime": {"type": "Property", "value": v.running_min, "unitCode": "MIN"},
            "transportationType": {"type": "Property", "value": BUS},
        }
        path = network.paths.get(v.key)
        if path and len(set(path)) >= 2:
            body["location"] = {
                "type": "GeoProperty",
                "value": {"type": "LineString", "coordinates": [[lon, lat] for lon, lat in path]},
            }
        stops = network.sequences.get(v.key)
        if stops:
            body["refPublicTransportStops"] = {
                "type": "Relationship",
                "object": [stop_entity_id(s) for s in stops],
            }
        body.update(_provenance("Real route variant with its polyline and ordered stops (April 2024)."))
        out.append(body)
    return out
