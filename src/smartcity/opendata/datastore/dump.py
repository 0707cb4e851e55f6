"""Downloads of a whole resource table, written batch by batch: CSV, TSV, JSON, GeoJSON and Parquet.

Each writer turns the table's row batches (JSON-ready tuples, ``_id`` first, see ``TableStore.row_batches``) into
byte chunks as they come, so a download holds one batch at a time whatever the table's size. Parquet writes one
row group per batch through a sink that hands its bytes on after each group.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from smartcity.opendata.contracts import FieldSpec

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "json": "application/json",
    "geojson": "application/geo+json",
    "parquet": "application/vnd.apache.parquet",
}
FORMATS = tuple(MEDIA_TYPES)
Batches = Iterator[list[tuple[Any, ...]]]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


def delimited(fields: Sequence[FieldSpec], batches: Batches, delimiter: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([f.id for f in fields])
    for batch in batches:
        writer.writerows([[_cell(v) for v in row] for row in batch])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
    elif not fields:
        yield b""


def as_json(fields: Sequence[FieldSpec], batches: Batches) -> Iterator[bytes]:
    """CKAN's JSON dump: ``{"fields": [...], "records": [[...], ...]}`` (records as lists, in field order)."""
    head = orjson.dumps([{"id": f.id, "type": f.type} for f in fields])
    yield b'{"fields": ' + head + b', "records": ['
    first = True
    for batch in batches:
        if batch:  # one dumps per batch (many small dumps hold a buffer each until joined)
            yield (b"\n" if first else b",\n") + orjson.dumps(batch)[1:-1]
            first = False
    yield b"\n]}\n"


def as_geojson(fields: Sequence[FieldSpec], batches: Batches) -> Iterator[bytes]:
    """A FeatureCollection: the first geometry column is each feature's geometry, the others its properties."""
    where = next(n for n, f in enumerate(fields) if f.type == "geometry")
    names = [f.id for f in fields]
    yield b'{"type": "FeatureCollection", "features": ['
    first = True
    for batch in batches:
        features = [
            {
                "type": "Feature",
                "id": row[0],
                "geometry": row[where],
                "properties": {n: v for k, (n, v) in enumerate(zip(names, row, strict=True)) if k != where},
            }
            for row in batch
        ]
        if features:
            yield (b"\n" if first else b",\n") + orjson.dumps(features)[1:-1]
            first = False
    yield b"\n]}\n"


class _Sink:
    """A write-only file that keeps what it is given until :meth:`take` hands it on."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closed = False
        self.position = 0

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def _arrow_schema(fields: Sequence[FieldSpec]) -> Any:
    import pyarrow as pa

    kinds = {
        "text": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
        "json": pa.string(),
        "geometry": pa.string(),
    }
    return pa.schema([pa.field(f.id, kinds[f.type]) for f in fields])


def _arrow_column(kind: str, values: list[Any]) -> Any:
    import pyarrow as pa

    if kind == "timestamp":
        return pa.array(values, pa.string()).cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    if kind == "date":
        return pa.array(values, pa.string()).cast(pa.date32())
    if kind in ("json", "geometry"):
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values], pa.string())
    types = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    return pa.array(values, types[kind])


def as_parquet(fields: Sequence[FieldSpec], batches: Batches) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(fields)
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    try:
        for batch in batches:
            if not batch:
                continue
            columns = [_arrow_column(f.type, [row[n] for row in batch]) for n, f in enumerate(fields)]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            chunk = sink.take()
            if chunk:
                yield chunk
    finally:
        writer.close()
    yield sink.take()


def writer_for(fmt: str, fields: Sequence[FieldSpec], batches: Batches) -> Iterator[bytes]:
    if fmt == "csv":
        return delimited(fields, batches, ",")
    if fmt == "tsv":
        return delimited(fields, batches, "\t")
    if fmt == "json":
        return as_json(fields, batches)
    if fmt == "geojson":
        return as_geojson(fields, batches)
    return as_parquet(fields, batches)
