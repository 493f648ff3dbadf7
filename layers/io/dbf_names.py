"""Headers a shapefile's .dbf cut to 10 bytes, read as the names they were cut from.

A .dbf field name holds 10 bytes: other tools' ``hours_of_operation`` arrives
as ``hours_of_o``, ``opening_hours`` as ``opening_ho``, and a Chinese header
in GBK keeps 5 characters (無障礙廁座數 arrives as 無障礙廁座; a character cut
in two is dropped). Such a header, at the cut and naming no column as it is,
is read as the one known name it begins (compared loosely, as headers are);
when it begins names of two columns it is not guessed, and the report says so.
"""

from __future__ import annotations

from data.said import Note
from layers.io.columns import normalise_header
from layers.io.traditional import simplified

#: The bytes of a .dbf field name.
DBF_NAME_BYTES = 10
#: A header cut in the middle of a character (up to 4 bytes in UTF-8 and GB18030) keeps at least this many bytes.
_CUT_AT_LEAST = DBF_NAME_BYTES - 3


def cut_names(columns: list[str], encoding: str, known: dict[str, tuple[str, ...]],
              surely_cut: frozenset = frozenset(), endings: dict[str, tuple[str, ...]] | None = None,
              ) -> tuple[dict[str, str], list[Note]]:
    """The columns read under the names they were cut from (column → name), and the notes saying so and naming
    the headers left unread because they begin names of several columns.

    ``known``: each column (or other use of a header) of the layer → the names that call it. ``surely_cut``:
    headers known to have lost a character, read as the longer name they begin even where they name a column, or
    else (``endings``: column → the header endings that name it) as the header whose ending they cut: 公廁名 of
    公廁名稱 ends with 名, the start of 名称.
    """
    exact = {normalise_header(n) for names in known.values() for n in names}
    found, ambiguous = {}, {}
    for col in columns:
        norm = normalise_header(col)
        if (norm in exact and col not in surely_cut) or len(norm) < 3 or not _at_cut(col, encoding):
            continue
        begun = {target: name for target, names in known.items() for name in names
                 if (n := normalise_header(name)).startswith(norm) and n != norm}
        if not begun and col in surely_cut:
            begun = _cut_in_ending(col, norm, endings or {})
        if len(begun) == 1:
            found[col] = next(iter(begun.values()))
        elif len(begun) > 1:
            ambiguous[col] = sorted(set(begun.values()))
    return found, _notes(found, ambiguous)


def _cut_in_ending(col: str, norm: str, endings: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Column → the header a surely cut one was, where it ends with the first part of one ending (名 of 名称); the
    ending in the header's own script first (公廁名 → 公廁名稱, not 公廁名称)."""
    found: dict[str, str] = {}
    for target, words in endings.items():
        traditional = simplified(col) != col
        fits = [(not col.endswith(word[:k]), (simplified(word) != word) != traditional, col + word[k:])
                for word in words for k in range(1, len(word)) if norm.endswith(normalise_header(word[:k]))]
        if fits:
            found[target] = min(fits)[2]
    return found


def _at_cut(header: str, encoding: str) -> bool:
    """Whether the header fills the .dbf's 10 bytes (an ASCII one exactly; one with a character cut off: fewer)."""
    size = len(header.encode(encoding, errors="replace"))
    return size == DBF_NAME_BYTES if header.isascii() else _CUT_AT_LEAST <= size <= DBF_NAME_BYTES


def _notes(found: dict[str, str], ambiguous: dict[str, list[str]]) -> list[Note]:
    notes = []
    if found:
        notes.append(Note("shapefile 的列名最多 10 个字节，已按原名读取：" + "、".join(f"{c} → {n}" for c, n in found.items()),
                          "a shapefile's column names hold 10 bytes; read as the names they were cut from: "
                          + ", ".join(f"{c} → {n}" for c, n in found.items())))
    for col, names in ambiguous.items():
        notes.append(Note(f"列名 {col!r} 被 shapefile 截断为 10 个字节，可能是 {'、'.join(names)}，无法确定：保存在属性中"
                          "（可用 --mapping 指定它对应的列）",
                          f"column {col!r} was cut to 10 bytes by the shapefile and may be any of "
                          f"{', '.join(names)}: kept in attributes (--mapping names the column it feeds)"))
    return notes
