"""What the user asked an import for: the options of the CLI (or a form), and mapping files."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from data.errors import InvalidParameter

#: Metres outside the city's areas within which an import takes a point (--tolerance), placed in the nearest area.
TOLERANCE_M = 500.0


@dataclass
class ImportOptions:
    """What the user asked for (CLI options or an HTTP form)."""

    layer: str
    crs: str | None = None
    sheet: str | None = None
    gis_layer: str | None = None
    encoding: str | None = None
    lon_col: str | None = None
    lat_col: str | None = None
    id_field: str | None = None
    source: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    category_map: dict[str, str] = field(default_factory=dict)
    timezone: str | None = None  # of times without one; None: the city's (data.vocab.city_tz)
    tolerance_m: float = TOLERANCE_M
    dry_run: bool = False
    skip_bad: bool = False
    rejects: Path | None = None
    lang: str = "zh"  # of the rejects file's reasons
    level: str | None = None
    channel: str | None = None  # complaints: the channel of every row (12345, 数字城管), over the file's own
    code_field: str | None = None
    name_field: str | None = None
    parent_field: str | None = None
    population_field: str | None = None
    name_en_field: str | None = None


def load_mapping(path: Path) -> dict[str, str]:
    """A mapping file: JSON object {"header": "column"} or a two-column CSV (header, column)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidParameter("--mapping", f"cannot read {path}: {exc.strerror}", f"无法读取 {path}：{exc.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidParameter("--mapping", f"{path} is not valid JSON: {exc}", f"{path} 不是有效的 JSON：{exc}") from None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise InvalidParameter("--mapping", f"{path}: every key and value must be text", f"{path}：每个键和值都必须是文本")
        return data
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if any(len(r) < 2 for r in rows):
        raise InvalidParameter("--mapping", f"{path}: every line needs two values: file header, layer column",
                               f"{path}：每行须有两个值：文件表头、图层列名")
    return {r[0].strip(): r[1].strip() for r in rows}
