"""A hotline case found by its caller's number or name, or part of it, for staff who may read it (``q`` of the case list).

12345 exports carry the caller's name and number in columns of their own (来电人, 联系电话 …); the complaints
layer declares no column for them, so the import keeps them in ``attributes``, which is personal. Migration
0898 indexes pieces of those values (``complaint_caller_grams``); :func:`keys` turns the searched text into the
same pieces, and LIKE patterns that the rows the index gives are checked against (``complaint_caller_text``).

What a word of ``q`` finds, as a street office asks (尾号 0858, 姓吴的):

- 4 digits or more: a number holding them anywhere (``0858`` and ``2864`` find 135-2864-0858). Fewer digits find
  only a value that is those digits: offices ask for the last four (尾号后四位), and 3 digits are in about one
  11-digit number in a hundred (any of its 9 places), ~2,700 of 300,000 callers — a list that tells nobody who called.
- Han characters, 2 or more: a value holding them anywhere (``建国`` finds 吴建国, ``吴先生`` finds 吴先生).
  One alone: a value beginning with it, which is the surname (``吴`` finds 吴先生, 吴女士). Found anywhere, one
  character would list every 先生 and 女士 (先, 生, 女, 士 are in most names callers give).
- Anything else (Latin letters, ``%``, ``_``): a whole word of a value, as before; wildcards are never wildcards.
"""

from __future__ import annotations

import re
import unicodedata

from psycopg2 import sql

from layers.workflow.access import RowScope

# As complaint_caller_terms (migration 0897) writes a value's words: a number's digits joined across the spaces and
# dashes it was written with, then split at spaces and punctuation (after NFKC: full-width forms are plain).
_SEPARATED_DIGITS = re.compile(r"([0-9])[ \-]+(?=[0-9])")
_SPLIT = re.compile(r'[\s",;/、:\[\]()]+')
_DIGITS = re.compile(r"[0-9]{4,}")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")  # as migration 0898's [㐀-䶿一-鿿]
#: Before each value in complaint_caller_text: a word found at a value's start follows it.
_VALUE_START = "\x1f"


def terms(text: str) -> list[str]:
    """The words of ``text`` as the index holds a caller's values (``"135-2864-0858"`` → ``["13528640858"]``,
    ``"吴先生"`` → ``["吴先生"]``): a case is found when its caller fields hold all of them."""
    text = _SEPARATED_DIGITS.sub(r"\1", unicodedata.normalize("NFKC", text).lower())
    return [word for word in _SPLIT.split(text) if word]


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _word_keys(word: str) -> tuple[list[str], str | None]:
    """The index grams (migration 0898) a row must hold for ``word``, and the LIKE pattern its caller text must
    match (None: the grams say it all)."""
    if _DIGITS.fullmatch(word):
        # Pieces at every 4th place and the last 4 cover the run: fewer keys for the index to intersect.
        starts = sorted({*range(0, len(word) - 3, 4), len(word) - 4})
        return [f"d{word[i:i + 4]}" for i in starts], f"%{word}%"
    if _HAN.search(word):
        if len(word) == 1:
            return [f"^{word}"], f"%{_VALUE_START}{_escaped(word)}%"
        return [f"h{word[i:i + 2]}" for i in range(len(word) - 1)], f"%{_escaped(word)}%"
    return [f"w{word}"], None


def keys(text: str) -> tuple[list[str], list[str]]:
    """The grams and LIKE patterns of all the words of ``text`` (:func:`terms`); empty for text with no words.
    A word of one gram (4 digits, a surname, 2 characters) needs no pattern: the gram is the match, and the rows
    the index gives (5,000 for a common surname in 300,000 callers) are not read again."""
    grams: list[str] = []
    likes: list[str] = []
    for word in terms(text):
        word_grams, like = _word_keys(word)
        grams += [g for g in dict.fromkeys(word_grams) if g not in grams]
        likes += [like] if like and len(word_grams) > 1 else []
    return grams, likes


def patterns(text: str) -> list[str]:
    """The LIKE patterns the caller text of a row found holds, every word's (what the grams stand for)."""
    return [like for like in (_word_keys(word)[1] for word in terms(text)) if like]


def params(text: str, callers: bool | RowScope) -> dict:
    """The query parameters of :func:`clause` for the searched ``text``."""
    grams, likes = keys(text)
    return {"callers": grams, "caller_likes": likes,
            "called": list(callers.values) if isinstance(callers, RowScope) else None}


def clause(conn, callers: bool | RowScope, grams: list[str], filters: list[str]) -> str | None:
    """The ids of the complaints whose caller fields hold all the words searched (:func:`params`), among the rows
    whose ``attributes`` the user may read (``callers``, from ``column_grant``); None where it reads none, so that
    nobody else learns whether a number has called (the caller fields are then not searched at all), and for text
    with no words (spaces, commas), which every row would hold. Only the page's (``%(limit)s`` from ``%(off)s``,
    newest first, passing ``filters`` on ``c``): a surname finds thousands, and each is read again only if shown."""
    if callers is False or not grams:
        return None
    # The attributes test is the partial index's own predicate: without it the planner cannot use the index.
    where = ["c.attributes <> '{}'::jsonb", "complaint_caller_grams(c.attributes) @> %(callers)s::text[]",
             "complaint_caller_text(c.attributes) LIKE ALL (%(caller_likes)s::text[])", *filters]
    if isinstance(callers, RowScope):
        where.append(sql.SQL("c.{} = ANY(%(called)s)").format(sql.Identifier(callers.column)).as_string(conn))
    # OFFSET 0 keeps the rows found apart: planned with the LIMIT, the planner would walk the time index newest
    # first and compute every caller's grams until a page is full (6 s for a surname, against 0.1 s).
    return ("(SELECT f.id FROM (SELECT c.id, c.reported_at FROM complaints c WHERE " + " AND ".join(where)
            + " OFFSET 0) f ORDER BY f.reported_at DESC, f.id DESC LIMIT %(limit)s + %(off)s)")
