"""In-memory stand-ins for the catalogue and the datastore (the parts of their protocols DCAT reads), and the
SHACL validation the DCAT tests share."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyshacl import validate
from rdflib import Graph
from rdflib.namespace import SH
from rdflib.term import Node

from smartcity.opendata.contracts import Dataset, NotFound, SearchQuery, SearchResult, TableStats

SHAPES_DIR = Path(__file__).parent / "shapes"
#: the DCAT-AP 3.0.0 release's combined shapes and its controlled-vocabulary shapes (no owl:imports: no network)
SHAPE_FILES = ("dcat-ap-SHACL.ttl", "mdr-vocabularies.shape.ttl")


def parse(body: bytes | str, rdflib_format: str) -> Graph:
    """A serialisation read back; rdflib's JSON-LD parser itself builds a (deprecated) ConjunctiveGraph."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=body, format=rdflib_format)


def load_shapes() -> Graph:
    shapes = Graph()
    for name in SHAPE_FILES:
        shapes.parse(SHAPES_DIR / name, format="turtle")
    return shapes


@dataclass(frozen=True)
class Finding:
    severity: str  # Violation, Warning, Info
    focus: str
    path: str
    value: str
    message: str


@dataclass(frozen=True)
class Report:
    conforms: bool
    findings: list[Finding]
    text: str

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Warning"]


def shacl(data: Graph, shapes: Graph) -> Report:
    """Validate without inference and without following owl:imports; the report's top-level results only."""
    conforms, results, text = validate(
        data, shacl_graph=shapes, inference="none", do_owl_imports=False, allow_warnings=True, advanced=False
    )
    assert isinstance(results, Graph)

    def s(node: Node | None) -> str:
        return "" if node is None else str(node)

    findings = []
    for report in results.subjects(SH.conforms, None):
        for result in results.objects(report, SH.result):
            severity = s(results.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
            findings.append(
                Finding(
                    severity,
                    s(results.value(result, SH.focusNode)),
                    s(results.value(result, SH.resultPath)),
                    s(results.value(result, SH.value)),
                    s(results.value(result, SH.resultMessage)),
                )
            )
    return Report(bool(conforms), findings, str(text))


def _stamp(dataset: Mapping[str, Any]) -> str:
    return str(dataset.get("metadata_modified") or "")


class FakeCatalogue:
    """The reads DCAT makes of :class:`smartcity.opendata.contracts.Catalogue`, over a list of CKAN dicts."""

    def __init__(self, datasets: list[Dataset]) -> None:
        self.datasets = [copy.deepcopy(d) for d in datasets]
        self.searches: list[SearchQuery] = []

    def _public(self) -> list[Dataset]:
        return [d for d in self.datasets if not d.get("private") and d.get("state", "active") == "active"]

    def search(self, query: SearchQuery) -> SearchResult:
        self.searches.append(query)
        found = self._public()
        for key, direction in reversed(list(query.sort)):
            field = _stamp if key == "metadata_modified" else (lambda d, k=key: str(d.get(k) or ""))
            found.sort(key=field, reverse=direction == "desc")
        return SearchResult(len(found), copy.deepcopy(found[query.start : query.start + query.rows]))

    def show_dataset(self, id_or_name: str, *, include_private: bool = False) -> Dataset:
        for dataset in self.datasets:
            if id_or_name in (dataset.get("id"), dataset.get("name")):
                if dataset.get("private") and not include_private:
                    break
                return copy.deepcopy(dataset)
        raise NotFound(f"dataset {id_or_name} not found")

    def modified_since(self, since: datetime | None) -> Iterator[Dataset]:
        for dataset in self._public():
            stamp = datetime.fromisoformat(_stamp(dataset)).replace(tzinfo=UTC)
            if since is None or stamp > since:
                yield copy.deepcopy(dataset)


class FakeDatastore:
    """``stats`` of the datastore: which tables have geometry."""

    def __init__(self, with_geometry: set[str]) -> None:
        self.with_geometry = with_geometry

    def stats(self, resource_id: str) -> TableStats:
        return TableStats(
            row_count=10,
            last_modified=datetime(2026, 11, 24, tzinfo=UTC),
            fields=[],
            has_geometry=resource_id in self.with_geometry,
        )
