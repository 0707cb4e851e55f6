"""Definition files in YAML (IOC rules, open data publications): the shapes a file may take, and text that is
not YAML."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity import yamlfiles


def test_one_a_list_a_keyed_list_or_several_documents() -> None:
    assert yamlfiles.items("id: a\nn: 1\n", "rules") == [{"id": "a", "n": 1}]
    assert yamlfiles.items("- id: a\n- id: b\n", "rules") == [{"id": "a"}, {"id": "b"}]
    assert yamlfiles.items("rules:\n  - id: a\n  - id: b\n", "rules") == [{"id": "a"}, {"id": "b"}]
    assert yamlfiles.items("id: a\n---\n- id: b\n---\n", "rules") == [{"id": "a"}, {"id": "b"}]
    # a definition that has its own "rules" member is one definition, not a list of them
    assert yamlfiles.items("id: a\nrules: [1]\n", "rules") == [{"id": "a", "rules": [1]}]
    assert yamlfiles.items("", "rules") == []


def test_scalars_come_out_as_json_has_them() -> None:
    found = yamlfiles.items("id: a\nday: 2026-11-24\nat: 2026-11-24T08:00:00+07:00\n1: x\n", "rules")
    assert found == [{"id": "a", "day": date(2026, 11, 24).isoformat(), "at": "2026-11-24T08:00:00+07:00", "1": "x"}]


def test_tags_and_bad_yaml_are_refused() -> None:
    with pytest.raises(yamlfiles.YamlInvalid):
        yamlfiles.items("id: [unclosed\n", "rules")
    with pytest.raises(yamlfiles.YamlInvalid):  # the safe loader builds no objects
        yamlfiles.items("!!python/object/apply:os.system ['true']\n", "rules")


def test_files_are_the_yaml_ones_in_name_order(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yaml", "c.txt", "d.json"):
        (tmp_path / name).write_text("id: x\n", encoding="utf-8")
    assert [p.name for p in yamlfiles.files(tmp_path)] == ["a.yaml", "b.yml"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_read_or_refused_as_yaml(text: str) -> None:
    try:
        found = yamlfiles.items(text, "rules")
    except yamlfiles.YamlInvalid:
        return
    assert isinstance(found, list)
