"""Search without Solr on both backends: ranking, Vietnamese with and without diacritics, filters, sorts, facets."""

from __future__ import annotations

import pytest

from smartcity.opendata.catalogue.repository import SqlCatalogue
from smartcity.opendata.contracts import SearchError, SearchQuery
from tests.opendata.catalogue.support import air_quality, car_parks, flood


@pytest.fixture
def filled(catalogue: SqlCatalogue) -> SqlCatalogue:
    for data in (air_quality(), car_parks(), flood()):
        catalogue.create_dataset(data, user="p")
    catalogue.create_dataset(
        car_parks(name="bai-do-xe-rieng", title="Bãi đỗ xe nội bộ", private=True, tags=["nội bộ"]), user="p"
    )
    return catalogue


def names(catalogue: SqlCatalogue, **query: object) -> list[str]:
    return [d["name"] for d in catalogue.search(SearchQuery(**query)).results]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "q",
    ["chat luong khong khi", "Chất lượng không khí", "CHẤT LƯỢNG", "khong khi", "hourly air quality", "PM2.5"],
)
def test_vietnamese_with_or_without_diacritics_finds_the_dataset(filled: SqlCatalogue, q: str) -> None:
    assert names(filled, q=q)[0] == "chat-luong-khong-khi"


def test_query_without_diacritics_matches_titles_written_with_them_and_back(filled: SqlCatalogue) -> None:
    assert names(filled, q="bai do xe") == ["bai-do-xe"]
    assert names(filled, q="muc nuoc") == ["muc-nuoc"]
    filled.create_dataset(flood(name="trieu-cuong", title="trieu cuong", tags=[]), user="p")
    assert names(filled, q="triều cường") == ["trieu-cuong"]


def test_every_word_must_match_and_text_comes_from_every_field(filled: SqlCatalogue) -> None:
    assert names(filled, q="khong khi ngap") == []
    assert names(filled, q="mot dong moi gio") == ["chat-luong-khong-khi"]  # a resource's description
    assert names(filled, q="trung tam chong ngap") == ["muc-nuoc"]  # the organisation's title
    assert names(filled, q="flood control") == ["muc-nuoc"]  # its English title
    assert names(filled, q="do xe") == ["bai-do-xe"]  # a tag; the private dataset stays hidden


def test_a_title_match_ranks_above_a_mention_in_the_notes(filled: SqlCatalogue) -> None:
    # "chất lượng" is the title of the air-quality dataset and only a word in the notes of the water levels
    assert names(filled, q="chat luong") == ["chat-luong-khong-khi", "muc-nuoc"]


def test_private_datasets_only_with_include_private(filled: SqlCatalogue) -> None:
    assert "bai-do-xe-rieng" not in names(filled, rows=100)
    assert names(filled, q="noi bo", include_private=True) == ["bai-do-xe-rieng"]
    assert filled.search(SearchQuery(fq=(("capacity", "private"),), include_private=True)).count == 1


def test_filters_combine_with_and(filled: SqlCatalogue) -> None:
    assert sorted(names(filled, fq=(("groups", "environment"),))) == ["chat-luong-khong-khi", "muc-nuoc"]
    assert names(filled, fq=(("groups", "environment"), ("res_format", "Parquet"))) == ["chat-luong-khong-khi"]
    assert names(filled, fq=(("organization", "so-giao-thong-van-tai"),)) == ["bai-do-xe"]
    assert names(filled, fq=(("tags", "mực nước"), ("license_id", "CC-BY-4.0"))) == ["muc-nuoc"]
    assert names(filled, fq=(("name", "muc-nuoc"),)) == ["muc-nuoc"]
    assert names(filled, fq=(("type", "harvest"),)) == []
    assert names(filled, q="khong khi", fq=(("frequency", "continuous"),)) == []
    assert names(filled, fq=(("tags", "never-used"), ("groups", "environment"))) == []  # a term nobody has
    assert filled.search(SearchQuery(fq=(("tags", "never-used"),), facet_fields=("groups",))).facets == {"groups": {}}
    # the rarer term drives on SQLite, whichever comes first; the answer is the same
    both = (("groups", "environment"), ("organization", "trung-tam-chong-ngap"))
    assert names(filled, fq=both) == names(filled, fq=both[::-1]) == ["muc-nuoc"]
    with pytest.raises(SearchError):
        filled.search(SearchQuery(fq=(("author", "x"),)))


def test_sorts_and_paging(filled: SqlCatalogue) -> None:
    assert names(filled, sort=(("name", "asc"),)) == ["bai-do-xe", "chat-luong-khong-khi", "muc-nuoc"]
    assert names(filled, sort=(("name", "desc"),), rows=2) == ["muc-nuoc", "chat-luong-khong-khi"]
    assert names(filled, sort=(("name", "asc"),), rows=2, start=2) == ["muc-nuoc"]
    assert names(filled, sort=(("title_string", "asc"),)) == ["bai-do-xe", "chat-luong-khong-khi", "muc-nuoc"]
    assert names(filled) == ["muc-nuoc", "bai-do-xe", "chat-luong-khong-khi"]  # newest change first
    filled.patch_dataset({"id": "bai-do-xe", "notes": "Cập nhật"}, user="p")
    assert names(filled, sort=(("metadata_modified", "desc"),))[0] == "bai-do-xe"
    found = filled.search(SearchQuery(rows=0))
    assert found.count == 3 and found.results == []
    with pytest.raises(SearchError):
        filled.search(SearchQuery(sort=(("author", "asc"),)))


def test_facets_are_counted_over_the_hits(filled: SqlCatalogue) -> None:
    fields = ("organization", "groups", "tags", "res_format", "license_id", "frequency")
    everything = filled.search(SearchQuery(facet_fields=fields)).facets
    assert everything["groups"] == {"environment": 2, "flood": 1, "transport": 1}
    assert everything["res_format"] == {"CSV": 2, "JSON": 1, "Parquet": 1}
    assert everything["license_id"] == {"CC-BY-4.0": 2, "ODC-BY-1.0": 1}
    assert everything["frequency"] == {"hourly": 2, "continuous": 1}
    assert "nội bộ" not in everything["tags"]
    hits = filled.search(SearchQuery(q="khong khi", facet_fields=fields)).facets
    assert hits["organization"] == {"so-tai-nguyen-va-moi-truong": 1}
    assert hits["groups"] == {"environment": 1}
    filtered = filled.search(SearchQuery(fq=(("groups", "environment"),), facet_fields=("organization",)))
    assert filtered.facets == {"organization": {"so-tai-nguyen-va-moi-truong": 1, "trung-tam-chong-ngap": 1}}
    private = filled.search(SearchQuery(facet_fields=("tags",), include_private=True)).facets
    assert private["tags"]["nội bộ"] == 1


def test_facet_limit_and_mincount(filled: SqlCatalogue) -> None:
    top = filled.search(SearchQuery(facet_fields=("res_format",), facet_limit=1)).facets["res_format"]
    assert top == {"CSV": 2}
    assert len(filled.search(SearchQuery(facet_fields=("tags",), facet_limit=-1)).facets["tags"]) == 6
    common = filled.search(SearchQuery(facet_fields=("groups", "tags"), facet_mincount=2)).facets
    assert common == {"groups": {"environment": 2}, "tags": {}}
    with pytest.raises(SearchError):
        filled.search(SearchQuery(facet_fields=("author",)))


def test_deleted_datasets_leave_the_index(filled: SqlCatalogue) -> None:
    filled.delete_dataset("muc-nuoc", user="p")
    assert names(filled, q="muc nuoc") == []
    assert "flood" not in filled.search(SearchQuery(facet_fields=("groups",))).facets["groups"]
    filled.patch_dataset({"id": "muc-nuoc", "state": "active"}, user="p")
    assert names(filled, q="muc nuoc") == ["muc-nuoc"]


def test_narrowed_facets_follow_every_kind_of_edit(filled: SqlCatalogue) -> None:
    """The facets of a filtered or text search are read from each hit's own terms (PostgreSQL keeps them as an
    array beside the terms table): they follow updates, patches, private datasets and values with colons."""
    fields = ("groups", "tags", "res_format")
    narrowed = SearchQuery(fq=(("groups", "environment"),), facet_fields=fields)
    assert filled.search(narrowed).facets["res_format"] == {"CSV": 2, "Parquet": 1}
    shown = filled.show_dataset("muc-nuoc")
    odd = {"url": "https://example.invalid/muc-nuoc.xyz", "name": "Khác", "format": "vnd:hcmc:x"}
    filled.patch_dataset({"id": "muc-nuoc", "resources": [*shown["resources"], odd]}, user="p")
    assert filled.search(narrowed).facets["res_format"] == {"CSV": 2, "Parquet": 1, "vnd:hcmc:x": 1}
    assert names(filled, fq=(("res_format", "vnd:hcmc:x"),)) == ["muc-nuoc"]
    assert names(filled, fq=(("res_format", "vnd"),)) == []  # the whole value, not the part before a colon
    text = filled.search(SearchQuery(q="muc nuoc", facet_fields=("res_format",))).facets["res_format"]
    assert text == {"CSV": 1, "vnd:hcmc:x": 1}
    filled.update_dataset({**filled.show_dataset("muc-nuoc"), "groups": [{"name": "flood"}]}, user="p")
    assert filled.search(narrowed).count == 1
    assert filled.search(narrowed).facets["groups"] == {"environment": 1}
    public = filled.search(SearchQuery(fq=(("groups", "transport"),), facet_fields=("tags",)))
    assert public.count == 1 and "nội bộ" not in public.facets["tags"]
    private = filled.search(SearchQuery(fq=(("groups", "transport"),), facet_fields=("tags",), include_private=True))
    assert private.count == 2 and private.facets["tags"]["nội bộ"] == 1
