"""Vietnamese folded without diacritics: what the index stores and what queries are compared with."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.opendata.catalogue.folding import fold, folded_text, words

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
LETTERS = VIETNAMESE + VIETNAMESE.upper() + " 0123456789.,-_"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Chất lượng không khí", "chat luong khong khi"),
        ("ĐƯỜNG Nguyễn Thị Minh Khai", "duong nguyen thi minh khai"),
        ("Sở Tài nguyên và Môi trường", "so tai nguyen va moi truong"),
        ("Mực nước, triều cường", "muc nuoc, trieu cuong"),
        ("Ủy ban nhân dân", "uy ban nhan dan"),
        ("PM2.5", "pm2.5"),
    ],
)
def test_fold_examples(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_words_split_on_punctuation_and_underscores() -> None:
    assert words("VN_AQI: chỉ số, PM2.5") == ["vn", "aqi", "chi", "so", "pm2", "5"]
    assert folded_text("Bãi đỗ xe", None, "", "Giao thông") == "bai do xe giao thong"


@given(st.text())
def test_folding_is_idempotent_and_leaves_no_marks(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", once))
    assert "đ" not in once


@given(st.text(alphabet=LETTERS, max_size=60))
def test_vietnamese_with_and_without_diacritics_fold_alike(text: str) -> None:
    stripped = "".join(
        c
        for c in unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
        if not unicodedata.combining(c)
    )
    assert fold(text) == fold(stripped) == stripped.lower()
    assert words(text) == words(stripped)
    assert all(w.isascii() and w.isalnum() for w in words(text))
