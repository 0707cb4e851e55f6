"""Traffic counters on main HCMC roads whose speeds follow a REAL daily profile from Los Angeles, rescaled.

Source: the "Los-loop" speeds of T-GCN (a subset of METR-LA: loop detectors on Los Angeles freeways), 5-minute
average speeds in mph. The file has no timestamps; T-GCN describes it as 1-7 March 2012, so the demo assumes the
first row is Thursday 2012-03-01 00:00 local time and each row 5 minutes later (7 days, 2,016 rows). The demo
ships 12 of the 207 sensors (those with the deepest rush-hour slowdowns; values unchanged).

Rescaling: each sensor's speed is divided by its free-flow speed (the 95th percentile of its week) and multiplied
by the HCMC road's assumed free-flow speed, so the shape of the day (rush hours, nights, weekend) is real and the
level is HCMC-like. These are not HCMC measurements, and every counter entity says so. ``congested`` is true below
half the free-flow speed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from smartcity.demo import sources
from smartcity.demo.devices import KM_PER_HOUR, Device, Measure, Message, ServiceGroup, statics
from smartcity.demo.timeline import Series, Window

START = datetime(2012, 3, 1)  # assumed (see the module docstring)
STEP = timedelta(minutes=5)
CONGESTED_RATIO = 0.5

GROUP = ServiceGroup(
    apikey="hcmc-traffic",
    entity_type="TrafficFlowObserved",
    measures=(Measure("v", "averageVehicleSpeed", unit=KM_PER_HOUR), Measure("c", "congested", type="Boolean")),
    label="traffic counters (rescaled Los Angeles profile)",
)


@dataclass(frozen=True)
class Counter:
    code: str
    road: str
    lon: float
    lat: float
    free_flow_kmh: float  # assumed for the road


#: approximate positions on main roads; free-flow speeds are assumptions for the demo
COUNTERS = (
    Counter("vo-van-kiet", "Võ Văn Kiệt Boulevard", 106.6900, 10.7575, 60.0),
    Counter("dien-bien-phu", "Điện Biên Phủ Street (Bình Thạnh)", 106.7100, 10.8010, 45.0),
    Counter("xa-lo-ha-noi", "Hanoi Highway (Thảo Điền)", 106.7450, 10.8040, 70.0),
    Counter("cong-hoa", "Cộng Hòa Street", 106.6450, 10.8010, 45.0),
    Counter("nguyen-van-linh", "Nguyễn Văn Linh Boulevard", 106.7000, 10.7290, 60.0),
    Counter("truong-chinh", "Trường Chinh Street", 106.6330, 10.8070, 45.0),
    Counter("pham-van-dong", "Phạm Văn Đồng Avenue", 106.7000, 10.8290, 60.0),
    Counter("nam-ky-khoi-nghia", "Nam Kỳ Khởi Nghĩa Street", 106.6900, 10.7840, 40.0),
    Counter("cach-mang-thang-tam", "Cách Mạng Tháng Tám Street", 106.6840, 10.7830, 40.0),
    Counter("kinh-duong-vuong", "Kinh Dương Vương Street", 106.6240, 10.7480, 45.0),
    Counter("nguyen-huu-tho", "Nguyễn Hữu Thọ Street", 106.7000, 10.7240, 50.0),
    Counter("quoc-lo-1", "National Road 1 (An Sương)", 106.6100, 10.8400, 60.0),
)


@dataclass(frozen=True)
class TrafficRow:
    time: datetime  # assumed local time in the source city
    speeds_mph: tuple[float, ...]  # one per shipped sensor, in file order


def read(text: str) -> tuple[list[str], list[TrafficRow]]:
    """The sensor ids (header) and the rows, timestamped from :data:`START` every :data:`STEP`."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    rows = [TrafficRow(START + i * STEP, tuple(float(x) for x in r)) for i, r in enumerate(reader) if r]
    return header, rows


def free_flow(rows: list[TrafficRow], column: int) -> float:
    """A sensor's free-flow speed: the 95th percentile of its speeds."""
    values = sorted(r.speeds_mph[column] for r in rows)
    return values[min(len(values) - 1, int(len(values) * 0.95))]


@dataclass(frozen=True)
class TrafficFeed:
    sensors: list[str]
    series: Series[TrafficRow]
    scale: tuple[float, ...]  # km/h on the HCMC road per mph at the sensor

    def messages(self, window: Window, rows: list[tuple[datetime, TrafficRow]]) -> list[Message]:
        out = []
        for t, row in rows:
            for i, counter in enumerate(COUNTERS):
                speed = round(row.speeds_mph[i] * self.scale[i], 1)
                measures = {"v": speed, "c": speed < CONGESTED_RATIO * counter.free_flow_kmh}
                out.append(Message(GROUP, device_id(counter), window.sim_time(t), measures))
        return out


def load() -> TrafficFeed:
    sensors, rows = read(sources.text_of(sources.TRAFFIC))
    if len(sensors) < len(COUNTERS):
        raise ValueError(f"the traffic file has {len(sensors)} sensors, the demo needs {len(COUNTERS)}")
    scale = tuple(c.free_flow_kmh / free_flow(rows, i) for i, c in enumerate(COUNTERS))
    return TrafficFeed(sensors, Series.of([(r.time, r) for r in rows]), scale)


def device_id(counter: Counter) -> str:
    return f"traffic-{counter.code}"


def entity_id(counter: Counter) -> str:
    return f"urn:ngsi-ld:TrafficFlowObserved:HCMC:{counter.code}"


def devices(sensors: list[str]) -> list[Device]:
    out = []
    for counter, sensor in zip(COUNTERS, sensors, strict=False):
        static = statics(
            ("name", f"Traffic counter, {counter.road}"),
            ("location", sources.point(counter.lon, counter.lat)),
            ("address", {"streetAddress": counter.road, "addressLocality": "Ho Chi Minh City"}),
            ("freeFlowSpeed", counter.free_flow_kmh),
            ("profileSensor", f"METR-LA sensor {sensor}"),
            provenance=sources.provenance(
                "Los-loop / METR-LA (Los Angeles loop detectors), via T-GCN",
                sources.REPO_LOS_LOOP,
                modelled=True,
                description="Real daily profile from Los Angeles loop detectors (March 2012), rescaled to this "
                "road's assumed free-flow speed; not HCMC measurements. Position approximate.",
            ),
        )
        out.append(Device(device_id(counter), entity_id(counter), GROUP, static))
    return out
