"""The text encoding of a shapefile's .dbf that says none (no .cpg, no language-driver byte).

Chinese offices' desktop GIS (ArcGIS 9/10, MapGIS, 南方CASS) writes GBK .dbf
files without a .cpg and with the language-driver byte 0; GDAL then reads them
as ISO-8859-1 and the names become mojibake (``°Ùýg×ó°¶``) without a word.
The bytes of the text fields are judged the way a CSV's are
(:func:`layers.io.delimited.decode_text`): valid UTF-8 is UTF-8, else text
that decodes as GB18030 and gives Chinese characters is GB18030. The import
says which it took, and ``--encoding`` (or a .cpg) always wins.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
from pathlib import Path

from data.said import Note

#: Offset of the language-driver id (LDID) in a .dbf header: 0 says nothing of the encoding.
_LDID = 29
#: Read at most this much of a .dbf to judge its text (a ledger's first several thousand rows).
_SAMPLE = 4 << 20
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def dbf_head(path: Path, layer: str | None) -> tuple[str, bytes] | None:
    """The name and first bytes of the .dbf of a shapefile (or of a zip's one shapefile, or its ``layer``) that
    states no encoding: no .cpg beside it and a language-driver byte of 0; None when it states one."""
    if path.suffix.lower() == ".shp":
        if any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")) or not path.with_suffix(".dbf").exists():
            return None
        with open(path.with_suffix(".dbf"), "rb") as fh:
            data = fh.read(_SAMPLE)
        name = path.name
    else:  # a zip (checked by readers._check_zip): its shapefile's parts side by side
        with zipfile.ZipFile(path) as archive:
            names = {n.lower(): n for n in archive.namelist()}
            stems = [n[:-4] for n in names if n.endswith(".shp") and (layer is None or Path(n).stem == layer.lower())]
            if len(stems) != 1 or stems[0] + ".cpg" in names or stems[0] + ".dbf" not in names:
                return None
            with archive.open(names[stems[0] + ".dbf"]) as fh:
                data = fh.read(_SAMPLE)
            name = Path(names[stems[0] + ".shp"]).name
    return (name, data) if len(data) >= 32 and data[_LDID] == 0 else None


def text_values(data: bytes) -> list[bytes]:
    """The non-ASCII bytes of a .dbf's field names and text (C) fields, from its first records."""
    if len(data) < 32:
        return []
    header_len, record_len = struct.unpack("<HH", data[8:12])
    fields, offset, pos = [], 1, 32  # each record starts with its deletion flag
    while pos + 32 <= min(header_len, len(data)) and data[pos] != 0x0D:
        desc = data[pos:pos + 32]
        fields.append((desc[:11].split(b"\0")[0], desc[11:12], offset, desc[16]))
        offset, pos = offset + desc[16], pos + 32
    found = [name for name, *_ in fields if max(name, default=0) >= 0x80]
    start = header_len
    while start + record_len <= len(data) and record_len:
        record = data[start:start + record_len]
        found += [value for _, kind, at, width in fields if kind == b"C"
                  and max(value := record[at:at + width].rstrip(b" \0"), default=0) >= 0x80]
        start += record_len
    return found


def detected(path: Path, layer: str | None = None) -> tuple[str | None, Note | None]:
    """The encoding to read a shapefile (.shp or zip) whose .dbf states none with (None: GDAL's own, from the
    .cpg or the .dbf) and the note of the import report saying which was taken."""
    head = dbf_head(path, layer)
    if head is None:
        return None, None
    name, data = head
    values = text_values(data)
    if not values:
        return None, None  # ASCII only: any encoding reads it the same
    if _all_decode(values, "utf-8"):
        return "utf-8", Note(f"{name} 没有 .cpg：按文字内容判断为 UTF-8 编码读取（如不对，请用 --encoding 指定）",
                             f"{name} has no .cpg: read as UTF-8, judged from its text (--encoding overrides)")
    if _all_decode(values, "gb18030") and any(_CJK.search(v.decode("gb18030")) for v in values):
        return "gb18030", Note(f"{name} 没有 .cpg：按文字内容判断为 GBK/GB18030 编码读取（如不对，请用 --encoding 指定）",
                               f"{name} has no .cpg: read as GBK/GB18030, judged from its text "
                               "(--encoding overrides)")
    return None, Note(f"{name} 没有 .cpg，文字既不是 UTF-8 也不像 GBK：按 ISO-8859-1 读取；如有乱码，请用 --encoding 指定编码",
                      f"{name} has no .cpg and its text is neither UTF-8 nor GBK: read as ISO-8859-1; if the "
                      "text is garbled, give the encoding with --encoding")


def _all_decode(values: list[bytes], codec: str) -> bool:
    """Whether every value decodes; a character cut at the field's width (its last bytes) is no fault."""
    for value in values:
        try:
            value.decode(codec)
        except UnicodeDecodeError as exc:
            if exc.end < len(value) or exc.start < len(value) - 3:
                return False
    return True


#: Language-driver ids of the Chinese code pages (936 GBK): what a .dbf without a .cpg may say.
_LDID_GBK = (0x4D, 0x7A)


def names_encoding(path: Path, layer: str | None, read_as: str | None) -> str:
    """The encoding a shapefile's .dbf writes its field names in, whose 10 bytes cut them: --encoding or the
    judged one, else its .cpg's, else its language driver's; UTF-8 when none says (ASCII names cut alike)."""
    if read_as:
        return read_as
    cpg, ldid = _cpg_and_ldid(path, layer)
    code = (cpg or "").strip().lower()
    code = {"936": "gbk", "65001": "utf-8"}.get(code, "cp" + code if code.isdigit() else code)
    try:
        return codecs.lookup(code).name if code else ("gbk" if ldid in _LDID_GBK else "utf-8")
    except LookupError:
        return "utf-8"


def _cpg_and_ldid(path: Path, layer: str | None) -> tuple[str | None, int]:
    """The text of a shapefile's .cpg (None without one) and its .dbf's language-driver byte (a .shp or a zip)."""
    def read(opener, cpg, dbf):
        text, head = None, b""
        if cpg:
            with opener(cpg) as fh:
                text = fh.read(64).decode("ascii", "replace")
        if dbf:
            with opener(dbf) as fh:
                head = fh.read(32)
        return text, head[_LDID] if len(head) > _LDID else 0

    if path.suffix.lower() == ".shp":
        cpg = next((p for s in (".cpg", ".CPG") if (p := path.with_suffix(s)).exists()), None)
        dbf = path.with_suffix(".dbf") if path.with_suffix(".dbf").exists() else None
        return read(lambda p: open(p, "rb"), cpg, dbf)
    with zipfile.ZipFile(path) as archive:
        names = {n.lower(): n for n in archive.namelist()}
        stems = [n[:-4] for n in names if n.endswith(".shp") and (layer is None or Path(n).stem == layer.lower())]
        if len(stems) != 1:
            return None, 0
        return read(archive.open, names.get(stems[0] + ".cpg"), names.get(stems[0] + ".dbf"))



def utf8_cut_names(frame) -> tuple:
    """A UTF-8 .dbf read as ISO-8859-1 (GDAL's names of it could not be decoded) given back its text: each name and
    text value re-read as UTF-8. GDAL and QGIS cut a field name at 10 bytes, so a Chinese header of four or more
    characters keeps three and a piece of the fourth, which no decoder takes; the piece is dropped (as a GBK cut
    drops it) and the name then read as the header it begins (:mod:`layers.io.dbf_names`). A value cut in two at
    its field's width loses the piece too; other bytes that are not UTF-8 stay visible as U+FFFD.

    Returns the frame and the names that lost a piece: surely cut, even where what is left is itself a header
    (無障礙廁座數 keeps 無障礙, the yes/no column's name)."""
    names = {c: _utf8(c, cut_end=True) for c in frame.columns if isinstance(c, str) and c != frame.geometry.name}
    out = frame.rename(columns=names)
    for col in names.values():  # pandas 3 keeps text as str, not object: look at the values
        out[col] = out[col].map(lambda v: _utf8(v) if isinstance(v, str) else v)
    return out, frozenset(new for old, new in names.items() if not _decodes(old.encode("latin-1")))


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8(latin: str, cut_end: bool = False) -> str:
    """Text GDAL read as ISO-8859-1, as the UTF-8 it is; the piece of a character cut at the end dropped (a name
    always ends there; a value when its last bytes are the piece), other bad bytes shown as U+FFFD."""
    raw = latin.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if cut_end or exc.start >= len(raw) - 3:
            return raw[:exc.start].decode("utf-8", "replace") + raw[exc.start:].decode("utf-8", "ignore")
        return raw.decode("utf-8", "replace")
