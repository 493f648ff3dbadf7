"""A hotline case found by its caller's number or name, for staff who may read it (``q`` of the case list).

12345 exports carry the caller's name and number in columns of their own (来电人, 联系电话 …); the complaints
layer declares no column for them, so the import keeps them in ``attributes``, which is personal. Migration
0897 indexes their words (``complaint_caller_terms``); :func:`terms` turns the searched text into words the same
way, so that a number typed with spaces or dashes finds the number kept without them, and the other way round.
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


def terms(text: str) -> list[str]:
    """The words of ``text`` as the index holds a caller's values (``"135-2864-0858"`` → ``["13528640858"]``,
    ``"吴先生"`` → ``["吴先生"]``): a case is found when its caller fields hold all of them."""
    text = _SEPARATED_DIGITS.sub(r"\1", unicodedata.normalize("NFKC", text).lower())
    return [word for word in _SPLIT.split(text) if word]


def clause(conn, callers: bool | RowScope, words: list[str]) -> str | None:
    """The ids of the complaints whose caller fields hold all of ``words`` (the parameter ``%(callers)s``),
    among the rows whose ``attributes`` the user may read (``callers``, from ``column_grant``); None where it
    reads none, so that nobody else learns whether a number has called (the caller fields are then not
    searched at all), and for text with no words (``%``), which every row would hold."""
    if callers is False or not words:
        return None
    # The attributes test is the partial index's own predicate: without it the planner cannot use the index.
    found = ("SELECT x.id FROM complaints x WHERE x.attributes <> '{}'::jsonb "
             "AND complaint_caller_terms(x.attributes) @> %(callers)s::text[]")
    if isinstance(callers, RowScope):
        found += sql.SQL(" AND x.{} = ANY(%(called)s)").format(sql.Identifier(callers.column)).as_string(conn)
    return found
