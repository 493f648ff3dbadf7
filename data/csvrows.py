"""Reading a table shipped as CSV (``data/standards.csv``, ``data/checklist.csv``) or a city's file of overrides."""

from __future__ import annotations

import csv
from pathlib import Path

from data.errors import InvalidInput

_WHAT_ZH = {"checklist": "检查清单", "standards": "标准"}


def read_rows(path: Path, columns: tuple[str, ...], key: str, what: str) -> list[tuple[int, dict[str, str | None]]]:
    """The rows of a CSV file (UTF-8, a BOM allowed) with their line numbers, every cell stripped.

    The header must name ``key`` and no column outside ``columns``; every
    row must have a ``key``. A cell missing from a short row is None.
    InvalidInput names the file (``what`` file, when it does not exist), the
    row and the problem.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            unknown = [c for c in header if c not in columns]
            if key not in header or unknown:
                raise InvalidInput(f"{path}: the header must name {key} and only these columns: {', '.join(columns)}"
                                   + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
                                   zh=f"{path}：表头必须有 {key} 列，且只能有这些列：{'、'.join(columns)}"
                                   + (f"（不认识的列：{'、'.join(unknown)}）" if unknown else ""))
            rows = []
            for line, raw in enumerate(reader, start=2):
                row = {k: None if v is None else v.strip() for k, v in raw.items() if k is not None}
                if not row.get(key):
                    raise InvalidInput(f"{path}, row {line}: the {key} is empty", zh=f"{path}，第 {line} 行：{key} 为空")
                rows.append((line, row))
            return rows
    except FileNotFoundError:
        raise InvalidInput(f"{path}: the {what} file does not exist",
                           zh=f"{path}：{_WHAT_ZH.get(what, what)}文件不存在") from None
