"""Vietnamese text folded for search: without diacritics, lower case, as words.

The catalogue folds what it indexes and what it is asked with the same function, so "chat luong khong khi"
finds "Chất lượng không khí" and the other way round: Unicode NFD, combining marks dropped, ``đ``/``Đ`` as
``d`` (a letter of its own in Vietnamese, not a ``d`` with a mark), lower case. Words are runs of letters and
digits (the underscore and punctuation separate them), which both engines' tokenizers keep as they are.
"""

from __future__ import annotations

import re
import unicodedata

_D = str.maketrans({"đ": "d", "Đ": "d"})
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """``text`` without diacritics, in lower case (``"Chất lượng Đường"`` -> ``"chat luong duong"``)."""
    decomposed = unicodedata.normalize("NFD", text.lower().translate(_D))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return _WORD.findall(fold(text))


def folded_text(*parts: str | None) -> str:
    """The folded words of every part, separated by single spaces (what the full-text index stores)."""
    return " ".join(w for part in parts if part for w in words(part))
