"""Words said in two languages: a note of a report, in English (the text itself) and in Chinese."""

from __future__ import annotations

import re


class Note(str):
    """A note of the import report: the English text itself, and ``zh``, the same in Chinese."""

    zh: str

    def __new__(cls, zh: str, en: str) -> Note:
        note = super().__new__(cls, en)
        note.zh = zh
        return note


def in_lang(text: str, lang: str) -> str:
    """A note or reason in ``lang``: its Chinese where it has one, else the English."""
    return getattr(text, "zh", None) or str(text) if lang == "zh" else str(text)


def say(templates: dict[str, tuple[str, str]], key: str, lang: str, **values) -> str:
    """Message ``key`` of ``templates`` (key → (Chinese, English) format strings) in ``lang``, filled in with ``values``.

    One place per message: the numbers and codes are the same in both languages, only the words around them differ.
    """
    zh, en = templates[key]
    return (zh if lang == "zh" else en).format(**values)


def plural(n: float) -> str:
    """The English plural ending for ``n`` of something: "" for exactly 1 (1 page), "s" otherwise (2 pages, 0.5 points)."""
    return "" if n == 1 else "s"


# A name geo.grids.GridCell.name made: the community's name, a space after one ending in a Latin letter or digit, then
# 「N号网格」. Lazy community, so "Block 12 5号网格" is Block 12's grid 5 and "岚亭社区12号网格" 岚亭社区's grid 12.
_GENERATED_GRID = re.compile(r"(?P<community>.*?) ?(?P<n>\d+)号网格")


def grid_name(name: str | None, lang: str, community: str | None = None, community_en: str | None = None) -> str | None:
    """A grid's name said in ``lang``: a generated one (「East Village 2号网格」) in English "East Village grid 2"; its
    community's English name ``community_en`` instead when the name was made from ``community`` (the grid's community's
    name) and the caller has both at hand. Chinese, and a name a street office gave by hand, stay as written."""
    match = _GENERATED_GRID.fullmatch(name or "") if lang == "en" else None
    if match is None:
        return name
    said = match["community"]
    if community_en and said == community:
        said = community_en
    return f"{said} grid {int(match['n'])}".strip()  # no community (a bare 「5号网格」): "grid 5"
