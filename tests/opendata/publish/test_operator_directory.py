"""An operator's own folder of publication definitions (``SMARTCITY_OPENDATA_PUBLICATIONS``) replaces the shipped
ones when the app is built; a broken definition stops the start with a message naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.opendata.publish.files import DefinitionInvalid, shipped_directory
from smartcity.settings import Settings
from tests.open_hub import open_settings


def _settings(directory: Path) -> Settings:
    return open_settings(
        database_url="sqlite:///unused.db", opendata_publish=False, opendata_publications=str(directory)
    )


def test_the_operators_folder_replaces_the_shipped_definitions(store: Store, tmp_path: Path) -> None:
    shutil.copy(shipped_directory() / "wards.yaml", tmp_path / "wards.yaml")
    app = create_app(_settings(tmp_path), store=store)
    assert list(app.state.opendata.publisher.publications) == ["wards"]


def test_a_broken_definition_stops_the_start_naming_its_file(store: Store, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionInvalid, match=r"broken\.yaml"):
        create_app(_settings(tmp_path), store=store)


def test_a_missing_folder_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(DefinitionInvalid, match="not a directory"):
        create_app(_settings(tmp_path / "absent"), store=store)
