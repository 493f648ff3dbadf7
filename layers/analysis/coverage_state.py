"""Coverage state kept between requests, invalidated by the change stamps (:mod:`layers.analysis.cache`).

Two parts per database (:mod:`geo.coverage_fast`): each level's areas with
their residential land, kept while the area and land-use tables are
unchanged; and per facility kind and radius the discs and what they cover in
each area. When the facility table's stamp moves, the facilities are read
again (ids and geometries, milliseconds) and only the areas that an added,
moved or removed facility's old or new disc touches are measured afresh.
What this process does not hold yet it reads from the parts kept in the
database when they are current (:mod:`geo.kept`, :mod:`geo.coverage_kept`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from geo import coverage_fast as fast
from layers.analysis.cache import data_stamp


class MaintainedState:
    """The coverage parts of the last few (database, level, kind, radius) asked for, least recently used dropped.

    Thread-safe: one lock around each lookup and update (the server answers
    on a thread pool); a part, once made, is never changed in place.
    """

    def __init__(self, max_entries: int = 24):
        self.max_entries = max_entries
        self._areas: OrderedDict = OrderedDict()  # (dsn, key) → (stamp, Areas)
        self._covers: OrderedDict = OrderedDict()  # (dsn, key) → (stamp, Areas, Cover)
        self._lock = threading.Lock()
        #: What the last requests did, for tests and the bench: "kept", "updated n areas", "built".
        self.last: list[str] = []

    def _keep(self, table: OrderedDict, key, value) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.max_entries:
            table.popitem(last=False)

    def areas(self, conn, key: tuple, load: Callable[[], fast.Areas]) -> fast.Areas:
        """The areas named ``key`` (its level first), loaded again only when a table under them changed."""
        stamp = data_stamp(conn, fast.area_tables(key[0]))
        with self._lock:
            kept = self._areas.get((conn.dsn, key))
            if kept is not None and kept[0] == stamp:
                self._areas.move_to_end((conn.dsn, key))
                return kept[1]
            areas = load()
            self._keep(self._areas, (conn.dsn, key), (stamp, areas))
            return areas

    def cover(self, conn, key: tuple, areas: fast.Areas, table: str, wkb: Callable[[], dict],
              build: Callable[[dict], fast.Cover]) -> fast.Cover:
        """The cover named ``key`` over ``areas``: kept, updated near the changed facilities, or built."""
        stamp = data_stamp(conn, (table,))
        with self._lock:
            kept = self._covers.get((conn.dsn, key))
            if kept is not None and kept[1] is areas:
                if kept[0] == stamp:
                    self._covers.move_to_end((conn.dsn, key))
                    self.last.append("kept")
                    return kept[2]
                cover, idx = fast.with_facilities(areas, kept[2], wkb())
                self.last.append(f"updated {len(idx)} areas")
            else:
                cover = build(wkb())
                self.last.append("built")
            del self.last[:-8]
            self._keep(self._covers, (conn.dsn, key), (stamp, areas, cover))
            return cover


#: The state the server's coverage answers and what-if edits share (one per process).
STATE = MaintainedState()
