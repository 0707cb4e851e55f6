"""Modelled flood gauges at well-known flood spots of Ho Chi Minh City.

Nothing here is measured. The water depth on the street at a gauge is the sum of two simple, documented models:

* **Tide** (tidal flooding, for spots beside the Saigon River and its canals): a mixed, mainly semidiurnal tide,
  the sum of four cosines (M2, S2, K1, O1) with amplitudes of the order of those of the Vũng Tàu coast
  (:data:`CONSTITUENTS`), all phases 0 at 2000-01-01T00:00Z. It is not a tide prediction: it has the right shape
  (two unequal highs a day, spring and neap tides every ~14.8 days) and range (up to ~2.2 m), not the real
  times. The street floods by ``tide - crest`` when the tide rises above the spot's crest level.
* **Rain** (a linear reservoir): storage ``S`` (mm) fills with the replayed rain ``P`` (mm/h, the Open-Meteo
  hourly precipitation the weather station replays at the same moment) times a concentration factor ``c`` (the
  street collects water from a catchment larger than itself) and drains at ``S / k`` (``k`` hours):
  ``dS/dt = c·P - S/k``. Over a step ``Δt`` with constant rain the exact solution is
  ``S' = S·e^(-Δt/k) + c·P·k·(1 - e^(-Δt/k))``: with no rain the water halves every ``k·ln 2`` hours, under
  steady rain it tends to ``c·P·k``, it is never negative.

``currentLevel`` (m) is that depth; ``floodLevelStatus`` is ``normal``, ``alert`` (from ``alertLevel``, 0.10 m)
or ``danger`` (from ``dangerLevel``, 0.30 m). Positions are approximate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from smartcity.demo import sources
from smartcity.demo.devices import METRE, Device, Measure, Message, ServiceGroup, statics

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: (name, period in hours, amplitude in metres) of the tidal constituents
CONSTITUENTS = (("M2", 12.4206012, 0.84), ("S2", 12.0, 0.32), ("K1", 23.9344696, 0.60), ("O1", 25.8193417, 0.45))
ALERT_M = 0.10
DANGER_M = 0.30

GROUP = ServiceGroup(
    apikey="hcmc-flood",
    entity_type="FloodMonitoring",
    measures=(Measure("lvl", "currentLevel", unit=METRE), Measure("st", "floodLevelStatus", type="Text")),
    label="flood gauges (modelled)",
)


def tide_m(moment: datetime) -> float:
    """The modelled tide level (m, around mean sea level) at an instant."""
    hours = (moment - EPOCH).total_seconds() / 3600.0
    return sum(a * math.cos(2 * math.pi * hours / period) for _, period, a in CONSTITUENTS)


def reservoir_step(storage_mm: float, rain_mm_h: float, dt_h: float, c: float, k_h: float) -> float:
    """The storage after ``dt_h`` hours of constant rain (exact solution of dS/dt = c·P - S/k)."""
    decay = math.exp(-dt_h / k_h)
    return storage_mm * decay + c * rain_mm_h * k_h * (1.0 - decay)


def status_of(level_m: float) -> str:
    if level_m >= DANGER_M:
        return "danger"
    if level_m >= ALERT_M:
        return "alert"
    return "normal"


@dataclass(frozen=True)
class FloodSpot:
    code: str
    name: str
    lon: float
    lat: float
    crest_m: float | None  # tide level above which the street floods; None: no tidal flooding modelled
    c: float  # rain concentration factor
    k_h: float  # drainage time constant (hours)


#: well-known flood spots (positions approximate); crest levels and drainage are illustrative model parameters
SPOTS = (
    FloodSpot("nguyen-huu-canh", "Nguyễn Hữu Cảnh Street (Saigon Pearl)", 106.7205, 10.7905, 1.55, 3.0, 1.5),
    FloodSpot("huynh-tan-phat", "Huỳnh Tấn Phát Street (Tân Thuận)", 106.7303, 10.7370, 1.45, 2.5, 2.0),
    FloodSpot("dinh-bo-linh", "Đinh Bộ Lĩnh Street (Miền Đông bus station)", 106.7105, 10.8110, None, 3.0, 1.5),
    FloodSpot("ung-van-khiem", "Ung Văn Khiêm Street", 106.7160, 10.8070, 1.60, 2.5, 1.5),
    FloodSpot("kinh-duong-vuong", "Kinh Dương Vương Street (An Lạc)", 106.6130, 10.7430, None, 3.0, 2.0),
    FloodSpot("quoc-lo-13", "National Road 13 (Hiệp Bình Phước)", 106.7160, 10.8400, 1.65, 2.0, 1.5),
    FloodSpot("le-van-luong", "Lê Văn Lương Street (Nhà Bè)", 106.7020, 10.7160, 1.40, 2.0, 2.0),
    FloodSpot("nguyen-xi", "Nguyễn Xí Street", 106.7090, 10.8200, None, 2.5, 1.0),
)


@dataclass
class Gauge:
    """One spot's model state: the rain storage (mm)."""

    spot: FloodSpot
    storage_mm: float = field(default=0.0)

    def advance(self, rain_mm_h: float, dt_h: float) -> None:
        self.storage_mm = reservoir_step(self.storage_mm, rain_mm_h, dt_h, self.spot.c, self.spot.k_h)

    def level_m(self, moment: datetime) -> float:
        tidal = max(0.0, tide_m(moment) - self.spot.crest_m) if self.spot.crest_m is not None else 0.0
        return tidal + self.storage_mm / 1000.0


def device_id(spot: FloodSpot) -> str:
    return f"flood-{spot.code}"


def entity_id(spot: FloodSpot) -> str:
    return f"urn:ngsi-ld:FloodMonitoring:HCMC:{spot.code}"


def devices() -> list[Device]:
    out = []
    for spot in SPOTS:
        static = statics(
            ("name", spot.name),
            ("location", sources.point(spot.lon, spot.lat)),
            ("stationID", spot.code),
            ("alertLevel", ALERT_M),
            ("dangerLevel", DANGER_M),
            ("positionNote", "approximate position of a well-known flood spot"),
            provenance=sources.provenance(
                "smartcity demo (flood model driven by Open-Meteo rain)",
                sources.REPO_OPENMETEO,
                modelled=True,
                description="Modelled water depth on the street (m): a four-constituent tide (not a prediction) "
                "above the spot's crest plus a linear reservoir fed by the replayed Open-Meteo rain.",
            ),
        )
        out.append(Device(device_id(spot), entity_id(spot), GROUP, static))
    return out


class FloodModel:
    """All gauges, stepped on the simulated clock with the rain the weather replay sends at the same time."""

    def __init__(self, step: timedelta = timedelta(minutes=10)) -> None:
        self.step = step
        self.gauges = [Gauge(spot) for spot in SPOTS]

    def advance(self, rain_mm_h: float, dt: timedelta) -> None:
        for gauge in self.gauges:
            gauge.advance(rain_mm_h, dt.total_seconds() / 3600.0)

    def messages(self, moment: datetime) -> list[Message]:
        out = []
        for gauge in self.gauges:
            level = round(gauge.level_m(moment), 3)
            out.append(Message(GROUP, device_id(gauge.spot), moment, {"lvl": level, "st": status_of(level)}))
        return out
