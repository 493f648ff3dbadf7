"""What a reader found in a file (or one chunk of its rows): text columns, and geometries when the format has them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class RawTable:
    """Rows of a file as read: every column as text, numbered in the file's own labelling."""

    path: Path
    frame: pd.DataFrame            # every column as str ('' for empty)
    row_label: str                 # "row" (spreadsheet rows, header = row 1) or "feature"
    first_row: int                 # the number of the first row here in that labelling (later chunks: further on)
    geometries: np.ndarray | None = None  # shapely geometries (None entries for missing)
    crs: str | None = None         # the file's own CRS (authority string or WKT), when it states one
    encoding: str | None = None
    notes: tuple[str, ...] = ()
    names_cut_in: str | None = None  # a shapefile: the encoding whose 10 bytes its .dbf cut the headers to
    names_cut_off: frozenset = frozenset()  # its headers known to be cut: they lost a character cut in two
    estimated_rows: int | None = None  # the first chunk of a streamed file: about how many rows the file holds

    @property
    def rows_expected(self) -> int:
        """The file's rows (an estimate while it is streamed), to decide a bulk load."""
        return self.estimated_rows or len(self.frame)
