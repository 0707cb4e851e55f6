"""Car parks in HCMC whose occupancy follows a REAL daily profile from Birmingham (UK), rescaled.

Source: the UCI "Parking Birmingham" data (Birmingham City Council, 4 Oct - 19 Dec 2016): per car park, its
capacity and occupancy about every 30 minutes between about 08:00 and 16:30 local time. The demo pairs eight
Birmingham car parks with eight HCMC places that have off-street parking; the occupied share of the Birmingham car
park (occupancy / capacity) is applied to the HCMC car park's capacity, at the same local time of day. HCMC
capacities are assumptions for the demo (not published figures) and positions are approximate. Rows with a
negative occupancy or one above capacity (the source has a few hundred) are skipped, not corrected; outside the
hours the source covers, a car park simply reports nothing. These are not HCMC measurements.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from smartcity.demo import sources
from smartcity.demo.devices import Device, Measure, Message, ServiceGroup, statics
from smartcity.demo.timeline import Series, Window

log = logging.getLogger(__name__)

GROUP = ServiceGroup(
    apikey="hcmc-parking",
    entity_type="OffStreetParking",
    measures=(
        Measure("occ", "occupiedSpotNumber", type="Integer"),
        Measure("free", "availableSpotNumber", type="Integer"),
        Measure("rate", "occupancy"),
    ),
    label="car parks (rescaled Birmingham profile)",
)


@dataclass(frozen=True)
class CarPark:
    code: str
    name: str
    lon: float
    lat: float
    capacity: int  # assumed
    profile: str  # Birmingham SystemCodeNumber


CAR_PARKS = (
    CarPark("tan-son-nhat-t1", "Tân Sơn Nhất International Airport car park", 106.6640, 10.8150, 1200, "BHMBCCMKT01"),
    CarPark("saigon-centre", "Saigon Centre, Lê Lợi Street", 106.7010, 10.7730, 400, "BHMEURBRD01"),
    CarPark("vincom-dong-khoi", "Vincom Center Đồng Khởi", 106.7020, 10.7780, 600, "BHMNCPHST01"),
    CarPark("vivocity", "SC VivoCity, Nguyễn Văn Linh", 106.7040, 10.7300, 700, "BHMNCPNST01"),
    CarPark("aeon-tan-phu", "Aeon Mall Tân Phú", 106.6170, 10.8020, 1000, "Broad Street"),
    CarPark("crescent-mall", "Crescent Mall, Phú Mỹ Hưng", 106.7190, 10.7290, 500, "Others-CCCPS105a"),
    CarPark("landmark-81", "Landmark 81, Vinhomes Central Park", 106.7220, 10.7950, 800, "Others-CCCPS202"),
    CarPark("ben-thanh", "Bến Thành Market area", 106.6980, 10.7720, 300, "Shopping"),
)


@dataclass(frozen=True)
class ParkingReading:
    time: datetime  # Birmingham local time
    profile: str
    capacity: int
    occupancy: int

    @property
    def share(self) -> float:
        return self.occupancy / self.capacity


def read(rows: Iterable[dict[str, str]], profiles: set[str] | None = None) -> tuple[list[ParkingReading], int]:
    """Readings of the wanted car parks (all when ``profiles`` is None) and how many impossible rows were skipped."""
    out: list[ParkingReading] = []
    skipped = 0
    for row in rows:
        code = row["SystemCodeNumber"].strip()
        if profiles is not None and code not in profiles:
            continue
        capacity, occupancy = int(row["Capacity"]), int(row["Occupancy"])
        if capacity <= 0 or not 0 <= occupancy <= capacity:
            skipped += 1
            continue
        out.append(ParkingReading(datetime.fromisoformat(row["LastUpdated"].strip()), code, capacity, occupancy))
    return out, skipped


def load() -> Series[ParkingReading]:
    readings, skipped = read(sources.csv_rows(sources.PARKING), {c.profile for c in CAR_PARKS})
    if skipped:
        log.info("parking: skipped %d source rows with an occupancy outside [0, capacity]", skipped)
    return Series.of([(r.time, r) for r in readings])


def device_id(park: CarPark) -> str:
    return f"parking-{park.code}"


def entity_id(park: CarPark) -> str:
    return f"urn:ngsi-ld:OffStreetParking:HCMC:{park.code}"


def devices() -> list[Device]:
    out = []
    for park in CAR_PARKS:
        static = statics(
            ("name", park.name),
            ("location", sources.point(park.lon, park.lat)),
            ("totalSpotNumber", park.capacity),
            ("allowedVehicleType", ["car"]),
            ("profileCarPark", f"Birmingham {park.profile}"),
            provenance=sources.provenance(
                "Birmingham City Council (UCI Parking Birmingham, CC BY 4.0)",
                sources.REPO_BIRMINGHAM,
                modelled=True,
                description="Real daily occupancy profile from a Birmingham car park (Oct-Dec 2016), rescaled to "
                "an assumed HCMC capacity; not HCMC measurements. Position approximate.",
            ),
        )
        out.append(Device(device_id(park), entity_id(park), GROUP, static))
    return out


_BY_PROFILE = {park.profile: park for park in CAR_PARKS}


def messages(window: Window, readings: list[tuple[datetime, ParkingReading]]) -> list[Message]:
    out = []
    for t, r in readings:
        park = _BY_PROFILE.get(r.profile)
        if park is None:
            continue
        occupied = round(r.share * park.capacity)
        measures = {"occ": occupied, "free": park.capacity - occupied, "rate": round(r.share, 4)}
        out.append(Message(GROUP, device_id(park), window.sim_time(t), measures))
    return out
