"""Benchmark of the open data catalogue's search (not a test).

    .venv/bin/python benchmarks/opendata_search.py [--datasets 10000] [--requests 300] [--postgres]

``package_search`` over N datasets through HTTP: a real server process (``python -m smartcity serve``) on a
database filled beforehand, one client sending requests one at a time; p50 and p95 per kind of query (the CKAN
front page with six facets, free text with and without diacritics, text plus a filter, filters only).
Target p95 ≤ 30 ms (on both engines). For scale: a published load test of CKAN on data.gov measured package_search at
about 1 s mean.

THE DATASETS ARE SYNTHETIC: titles, descriptions and tags are generated from the city's themes, departments and
districts so that search has realistic bilingual text to rank; each is tagged ``synthetic`` and says so in its
description. They describe no real data.

``run(n)`` returns the table rows, for benchmarks/opendata.py.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import smartcity.app  # noqa: F401  (imports the hub's modules in their working order)
from hub import PG_BASE, server, table
from smartcity.hub.store import open_store
from smartcity.opendata.catalogue.repository import SqlCatalogue

TARGET_P95_MS = 30.0

#: (group, organisation, subjects (vi, en), tags) of the city's themes
THEMES: list[tuple[str, str, list[tuple[str, str]], list[str]]] = [
    (
        "environment",
        "so-tai-nguyen-va-moi-truong",
        [
            ("Chất lượng không khí", "Air quality"),
            ("Nồng độ bụi mịn PM2.5", "PM2.5 concentration"),
            ("Chỉ số VN_AQI", "VN_AQI index"),
            ("Tiếng ồn đô thị", "Urban noise"),
            ("Cây xanh đường phố", "Street trees"),
            ("Chất lượng nước mặt", "Surface water quality"),
        ],
        ["không khí", "bụi mịn", "PM2.5", "môi trường", "quan trắc", "tiếng ồn", "nước mặt"],
    ),
    (
        "transport",
        "so-giao-thong-van-tai",
        [
            ("Bãi đỗ xe công cộng", "Public car parks"),
            ("Vị trí xe buýt", "Bus positions"),
            ("Tuyến xe buýt", "Bus routes"),
            ("Trạm dừng xe buýt", "Bus stops"),
            ("Lưu lượng giao thông", "Traffic flow"),
            ("Ùn tắc giao thông", "Traffic congestion"),
        ],
        ["giao thông", "xe buýt", "đỗ xe", "lưu lượng", "ùn tắc", "metro"],
    ),
    (
        "flood",
        "trung-tam-chong-ngap",
        [
            ("Mực nước kênh rạch", "Canal water levels"),
            ("Lượng mưa theo giờ", "Hourly rainfall"),
            ("Điểm ngập", "Flood points"),
            ("Triều cường", "High tides"),
            ("Trạm bơm chống ngập", "Flood pumping stations"),
        ],
        ["ngập", "mực nước", "mưa", "triều cường", "trạm bơm"],
    ),
    (
        "health",
        "so-y-te",
        [
            ("Bệnh viện và trạm y tế", "Hospitals and clinics"),
            ("Ca sốt xuất huyết", "Dengue cases"),
            ("Tiêm chủng", "Vaccination"),
        ],
        ["y tế", "bệnh viện", "sốt xuất huyết", "tiêm chủng"],
    ),
    (
        "administration",
        "ubnd-tp",
        [
            ("Ranh giới phường xã", "Ward boundaries"),
            ("Dịch vụ công trực tuyến", "Online public services"),
            ("Phản ánh của người dân", "Citizens' reports"),
        ],
        ["hành chính", "phường", "dịch vụ công", "phản ánh"],
    ),
    (
        "economy",
        "so-ke-hoach-va-dau-tu",
        [
            ("Doanh nghiệp đăng ký mới", "New business registrations"),
            ("Vốn đầu tư", "Investment capital"),
            ("Giá cả thị trường", "Market prices"),
        ],
        ["doanh nghiệp", "đầu tư", "giá cả", "kinh tế"],
    ),
    (
        "energy",
        "so-xay-dung",
        [("Chiếu sáng công cộng", "Street lighting"), ("Tiêu thụ điện", "Electricity consumption")],
        ["chiếu sáng", "điện", "năng lượng"],
    ),
]
PLACES = [
    "Quận 1",
    "Quận 3",
    "Quận 4",
    "Quận 5",
    "Quận 6",
    "Quận 7",
    "Quận 8",
    "Quận 10",
    "Quận 11",
    "Quận 12",
    "Bình Thạnh",
    "Phú Nhuận",
    "Gò Vấp",
    "Tân Bình",
    "Tân Phú",
    "Bình Tân",
    "Thủ Đức",
    "Bình Chánh",
    "Hóc Môn",
    "Củ Chi",
    "Nhà Bè",
    "Cần Giờ",
]
FREQUENCIES = ["hourly", "daily", "weekly", "monthly", "annual", "continuous", "irregular"]
LICENCES = ["CC-BY-4.0", "CC-BY-4.0", "ODC-BY-1.0", "CC0-1.0", "ODbL-1.0"]
FORMATS = ["CSV", "JSON", "GeoJSON", "Parquet", "XLSX"]


def synthetic_dataset(i: int, rng: random.Random) -> dict[str, Any]:
    group, org, subjects, tags = rng.choice(THEMES)
    vi, en = rng.choice(subjects)
    place = rng.choice(PLACES)
    year = rng.randint(2015, 2026)
    fmt = rng.sample(FORMATS, rng.randint(1, 3))
    return {
        "name": f"synthetic-{i:05d}",
        "title_translated": {"vi": f"{vi} {place} năm {year}", "en": f"{en}, {place}, {year}"},
        "notes_translated": {
            "vi": f"Dữ liệu tổng hợp cho đo hiệu năng (không phải dữ liệu thật): {vi.lower()} tại {place}.",
            "en": f"Synthetic benchmark data (not real data): {en.lower()} in {place}.",
        },
        "owner_org": org,
        "groups": [{"name": group}],
        "tags": [*rng.sample(tags, min(len(tags), rng.randint(2, 4))), "synthetic"],
        "license_id": rng.choice(LICENCES),
        "frequency": rng.choice(FREQUENCIES),
        "extras": [{"key": "synthetic", "value": "true"}],
        "resources": [
            {"url": f"https://example.invalid/synthetic/{i}.{f.lower()}", "name": f"{vi} ({f})", "format": f}
            for f in fmt
        ],
    }


FACETS = '["organization","groups","tags","res_format","license_id","frequency"]'
QUERIES: list[tuple[str, list[dict[str, str]]]] = [
    ("front page: everything, 6 facets", [{"facet.field": FACETS}]),
    (
        "text without diacritics, 6 facets",
        [
            {"q": q, "facet.field": FACETS}
            for q in ("chat luong khong khi", "xe buyt", "muc nuoc", "benh vien", "quan 1")
        ],
    ),
    (
        "text with diacritics, 6 facets",
        [{"q": q, "facet.field": FACETS} for q in ("Chất lượng không khí", "Xe buýt", "Mực nước", "Thủ Đức")],
    ),
    (
        "text + filter, sorted by name",
        [
            {"q": "giao thong", "fq": "organization:so-giao-thong-van-tai", "sort": "name asc"},
            {"q": "khong khi", "fq": "res_format:CSV", "sort": "name asc"},
        ],
    ),
    (
        "filters only, 6 facets",
        [
            {"fq": "groups:flood res_format:Parquet", "facet.field": FACETS},
            {"fq": "tags:synthetic license_id:CC0-1.0", "facet.field": FACETS},
        ],
    ),
]


def fill(database: str, n: int) -> float:
    """Create ``n`` synthetic datasets through the catalogue; returns the seconds taken."""
    store = open_store(database)
    try:
        catalogue = SqlCatalogue(store, "")
        catalogue.seed()
        rng = random.Random(7)
        started = time.perf_counter()
        for i in range(n):
            catalogue.create_dataset(synthetic_dataset(i, rng), user="benchmark")
        seconds = time.perf_counter() - started
        if store.dialect.name == "postgresql":  # planner statistics, as autovacuum would refresh them soon after
            with store.transaction(write=True) as db:
                db.run("ANALYZE opendata_datasets, opendata_dataset_terms, opendata_facet_counts")
        return seconds
    finally:
        store.close()


def measure(port: int, requests: int) -> list[tuple[str, list[float], int]]:
    out = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for label, variants in QUERIES:
            for params in variants:  # warm up every variant
                client.get("/api/3/action/package_search", params=params).raise_for_status()
            times: list[float] = []
            hits = 0
            for k in range(requests):
                params = variants[k % len(variants)]
                started = time.perf_counter()
                response = client.get("/api/3/action/package_search", params=params)
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                hits += response.json()["result"]["count"]
            out.append((label, times, hits // requests))
    return out


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(n: int, *, requests: int = 300, postgres: bool = False) -> list[tuple[str, str, str]]:
    """package_search over ``n`` synthetic datasets; table rows (measure, value, target)."""
    engine = "PostgreSQL" if postgres else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        database = (
            f"{PG_BASE}/smartcity_bench_search_{uuid.uuid4().hex[:8]}" if postgres else f"sqlite:///{tmp}/search.db"
        )
        try:
            print(f"[{engine}] creating {n} synthetic datasets ...", flush=True)
            seconds = fill(database, n)
            rows = [(f"{engine}: create {n} datasets (catalogue, one per transaction)", f"{n / seconds:,.0f}/s", "")]
            before = os.environ.get("SMARTCITY_OPENDATA_PUBLISH")
            os.environ["SMARTCITY_OPENDATA_PUBLISH"] = "false"  # the server publishes nothing of its own meanwhile
            try:
                with server(database) as port:
                    measured = measure(port, requests)
            finally:
                if before is None:
                    os.environ.pop("SMARTCITY_OPENDATA_PUBLISH", None)
                else:
                    os.environ["SMARTCITY_OPENDATA_PUBLISH"] = before
            for label, times, hits in measured:
                rows.append((f"{engine} package_search {label}: p50", f"{statistics.median(times):.1f} ms", ""))
                target = f"≤ {TARGET_P95_MS:.0f} ms" + (f" (mean hits {hits})" if hits else "")
                rows.append((f"{engine} package_search {label}: p95", f"{_percentile(times, 95):.1f} ms", target))
        finally:
            if postgres:
                from smartcity.hub.store.postgres import drop_database

                drop_database(database)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per kind of query")
    parser.add_argument("--postgres", action="store_true", help="also measure PostgreSQL (127.0.0.1:5432)")
    args = parser.parse_args()
    rows = run(args.datasets, requests=args.requests)
    if args.postgres:
        rows += run(args.datasets, requests=args.requests, postgres=True)
    table(f"package_search over {args.datasets} synthetic datasets (HTTP, real server, one client)", rows)


if __name__ == "__main__":
    main()
