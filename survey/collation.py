"""Vietnamese alphabetical order, with ICU's collation for Vietnamese (CLDR `vi`).

Sorting by code points puts "Xã Đông Thạnh" after "Xã Vĩnh Lợi" (Đ is U+0110, after every
ASCII letter) and orders tone marks at random. The `vi` collation follows the Vietnamese
alphabet, a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y, with the tones in dictionary
order (a à ả ã á ạ) and case as a last tie-breaker; numbers are compared as numbers, so
"Phường 2" comes before "Phường 10". Every list of names sorts with `sort_key`.

ICU comes from the `pyicu-wheels` package, PyICU built with ICU inside the wheel: a fresh
machine needs no system ICU and no compiler.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

import icu

T = TypeVar("T")
_local = threading.local()


def _collator() -> icu.Collator:
    # A Collator is not meant to be shared between threads: one per thread.
    collator = getattr(_local, "collator", None)
    if collator is None:
        collator = icu.Collator.createInstance(icu.Locale("vi"))
        collator.setAttribute(icu.UCollAttribute.NUMERIC_COLLATION, icu.UCollAttributeValue.ON)
        _local.collator = collator
    return collator


def sort_key(text: str | None) -> bytes:
    """The key that puts `text` in Vietnamese alphabetical order (None sorts first)."""
    return _collator().getSortKey(text or "")


def by_name(items: Iterable[T], name: Callable[[T], str | None], *then: Callable[[T], object]):
    """`items` sorted by `name` in Vietnamese order, then by the keys in `then` (a code, an id)."""
    return sorted(items, key=lambda item: (sort_key(name(item)), *(key(item) for key in then)))


def fold(text: str) -> str:
    """`text` as typed on a keyboard without Vietnamese input: lower case, no tone marks or
    diacritics (đ as d), single spaces. "Rất  hài lòng" and "rat hai long" fold alike."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if unicodedata.category(c) != "Mn").lower().split())
