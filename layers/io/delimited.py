"""Delimited text (CSV, TSV, …) read in chunks of rows: a million-row file never held whole.

The encoding is checked over the whole file first (in blocks, nothing
kept), so a file that is not valid text is refused before any row is read;
then pandas parses it chunk by chunk, each chunk numbered as a spreadsheet
shows the file (the header's row, row 1 unless a title stands above it).
What a file and a sheet share is here too: finding the header under a title,
and leaving out a closing line of totals.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from data.errors import InvalidInput, InvalidParameter
from data.said import Note
from layers.io.rawtable import RawTable

_DELIMITERS = (",", "\t", ";", "|")
_BLOCK = 1 << 23  # bytes read at a time while checking the encoding
_HEAD = 1 << 16   # bytes that show the header (and a binary file's zeros)


def unknown_encoding(encoding: str) -> InvalidParameter:
    """The refusal of an ``--encoding`` Python does not know."""
    return InvalidParameter("--encoding", f"unknown encoding {encoding!r}", f"未知的编码 {encoding!r}")


def decode_text(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """Bytes → text: UTF-8 (with or without BOM), else GBK/GB18030; mixed files are refused."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise unknown_encoding(encoding) from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path.name}: not valid {encoding} at byte {exc.start}",
                               zh=f"{path.name}：第 {exc.start} 字节起不是有效的 {encoding} 文本") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
    # A file whose lines are partly valid non-ASCII UTF-8 and partly not is a
    # mix of encodings (a sheet pasted together): decoding it as GBK would
    # silently garble the UTF-8 part.
    utf8_lines = 0
    for line in data.split(b"\n"):
        if max(line, default=0) >= 0x80:
            try:
                line.decode("utf-8")
                utf8_lines += 1
            except UnicodeDecodeError:
                pass
    if utf8_lines:
        raise InvalidInput(f"{path.name}: mixed text encodings: line {bad_line} is not UTF-8 while {utf8_lines} "
                           "other line(s) are; save the whole file as UTF-8",
                           zh=f"{path.name}：文本编码混杂：第 {bad_line} 行不是 UTF-8，而另有 {utf8_lines} 行是；"
                              "请把整个文件另存为 UTF-8")
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(f"{path.name}: line {line} is neither UTF-8 nor GBK/GB18030 text; "
                           "give the encoding with --encoding",
                           zh=f"{path.name}：第 {line} 行既不是 UTF-8 也不是 GBK/GB18030 文本；请用 --encoding 指明编码") from None


def _encoding(path: Path, encoding: str | None) -> tuple[str, bytes | None]:
    """The file's encoding, checked block by block; the bytes only when the file had to be read whole.

    A file that decodes as the given encoding (else UTF-8) is streamed;
    anything else goes through :func:`decode_text` whole, for its messages
    and its GBK fallback (such files come from desktop software: small).
    """
    codec = encoding or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(codec)()
    except LookupError:
        raise unknown_encoding(encoding) from None
    try:
        with open(path, "rb") as fh:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        return codec, None
    except UnicodeDecodeError:
        data = path.read_bytes()
        return decode_text(path, data, encoding)[1], data


#: How far down a file or sheet its header is looked for (below a title, a date line, a note or two).
HEADER_SEARCH_ROWS = 20


def header_index(filled) -> int | None:
    """The index of the header among a table's first rows, given how many cells of each are filled; None when
    all are empty.

    Offices' exports often start with a title (one merged cell, 烟台市12345热线工单明细) and a line or two such as
    导出时间: the header is the first row filled across at least half the widest of these rows — a title or a note
    fills a cell or two of it. A table with no such lines has its header in row 1.
    """
    widest = max(filled, default=0)
    return next((i for i, n in enumerate(filled) if n >= 0.5 * widest), None) if widest else None


#: How a table's closing line of totals begins (合计：1,234条; 总计; 共计 …).
TOTALS = ("合计", "总计", "共计", "小计", "合計", "總計", "共計", "小計")


def without_tail(frame: pd.DataFrame) -> tuple[pd.DataFrame, Note | None]:
    """The rows without a table's blank last rows and its closing line of totals (合计…, a cell or two filled),
    which no office means as data, and what was left out; rows above keep their numbers."""
    end, totals = len(frame), None
    while end:
        values = [v.strip() for v in frame.iloc[end - 1] if v.strip()]
        if values and not (values[0].startswith(TOTALS) and len(values) <= 2):
            break
        end -= 1
        totals = totals or (values[0] if values else None)
    if end == len(frame):
        return frame, None
    what = (f"合计行：{totals[:30]}", f"a total: {totals[:30]}") if totals else ("空行", "blank")
    left = len(frame) - end
    said = f"the {left} last rows ({what[1]}) were not read" if left > 1 else f"the last row ({what[1]}) was not read"
    return frame.iloc[:end], Note(f"末尾 {left} 行（{what[0]}）未读取", said)


def _header(text: str) -> tuple[str, int]:
    """The delimiter and how many lines precede the header. The delimiter is the one most frequent in the first
    line that has any (a title typed without one is passed over): not in later lines, where a TSV's text may
    hold more commas than it has tabs."""
    lines = text.lstrip("\ufeff").splitlines()[:HEADER_SEARCH_ROWS]
    first = next((line for line in lines if any(d in line for d in _DELIMITERS)), "")
    counts = {d: first.count(d) for d in _DELIMITERS}
    delimiter = max(counts, key=counts.get) if first else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    return delimiter, header_index([sum(bool(cell.strip()) for cell in row) for row in rows]) or 0


def iter_csv(path: Path, *, encoding: str | None = None, chunk_rows: int | None = None) -> Iterator[RawTable]:
    """A delimited text file in chunks of ``chunk_rows`` rows (None: one), every value as text.

    Rows are numbered as a spreadsheet shows them across chunks; a row with
    the wrong number of fields is named by its line wherever it lies.
    """
    with open(path, "rb") as fh:
        head = fh.read(_HEAD)
    if b"\x00" in head[:4096]:
        raise InvalidInput(f"{path.name}: this is a binary file, not CSV text", zh=f"{path.name}：这是二进制文件，不是 CSV 文本")
    used, data = _encoding(path, encoding)
    pandas_encoding = "utf-8-sig" if used == "utf-8" else used
    text = (data or head).decode(pandas_encoding, errors="replace")
    if not text or text.isspace():
        raise InvalidInput(f"{path.name}: the file has no text (only blanks)", zh=f"{path.name}：文件没有内容（只有空白）")
    delimiter, skipped = _header(text)
    source = io.BytesIO(data) if data is not None else path
    # object, not str: pandas' string dtype makes every later .str step several times slower.
    reader = _parse(path, lambda: pd.read_csv(
        source, encoding=pandas_encoding, sep=delimiter, dtype=object, keep_default_na=False, na_filter=False,
        skipinitialspace=False, on_bad_lines="error", engine="c", iterator=True, skiprows=skipped))
    start = first_row = skipped + 2
    notes = (title_note(skipped),) if skipped else ()
    with reader:
        for frame, tail in _chunks(path, reader, chunk_rows):
            notes += (tail,) if tail else ()
            if first_row == start:
                _check_header(path, frame)
            elif frame.empty:
                break
            frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
            yield RawTable(path, frame.reset_index(drop=True), "row", first_row, encoding=used, notes=notes,
                           estimated_rows=_estimate(path, head, len(frame)) if first_row == start else None)
            first_row += len(frame)
    if first_row == start:
        raise InvalidInput(f"{path.name}: the file has a header but no data rows", zh=f"{path.name}：文件只有表头，没有数据行")


def title_note(skipped: int) -> Note:
    """What the import says of the rows above a header (:func:`header_index`)."""
    return Note(f"表头在第 {skipped + 1} 行：其上 {skipped} 行（标题）未读取",
                f"the header is row {skipped + 1}: the {skipped} row{'s' if skipped > 1 else ''} above it (a title) "
                "were not read")


def _chunks(path: Path, reader, rows: int | None) -> Iterator[tuple[pd.DataFrame, str | None]]:
    """The file's chunks of ``rows`` rows, each with what :func:`without_tail` left out of the last: a line of
    totals or blank rows close only the file. A full chunk ending in such a row may be the last: the next is read
    before it is given, and if that one holds nothing else, both are the file's end."""
    frame = _parse(path, lambda: _next_chunk(reader, rows))
    while frame is not None:
        following = None
        if rows is not None and len(frame) == rows:
            if len(without_tail(frame.iloc[-1:])[0]):  # ends in a row of data: the end, if it is one, is later
                yield frame, None
                frame = _parse(path, lambda: _next_chunk(reader, rows))
                continue
            following = _parse(path, lambda: _next_chunk(reader, rows))
            if following is not None and len(without_tail(following)[0]):
                yield frame, None
                frame = following
                continue
        yield without_tail(frame if following is None else pd.concat([frame, following]))
        return


def _next_chunk(reader, rows: int | None) -> pd.DataFrame | None:
    """The next ``rows`` rows (None: all the rest), None at the end."""
    try:
        return reader.get_chunk(rows)
    except StopIteration:
        return None


def _parse(path: Path, step):
    """One step of pandas' parser, its errors as the file's."""
    try:
        return step()
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            raise InvalidInput(f"{path.name}: row {found.group(2)} has {found.group(3)} fields but the header has "
                               f"{found.group(1)} (a stray delimiter or an unclosed quote?)",
                               zh=f"{path.name}：第 {found.group(2)} 行有 {found.group(3)} 个字段，而表头有 {found.group(1)} 个"
                                  "（多了分隔符，或引号没有闭合？）") from None
        first = str(exc).strip().splitlines()[0]
        raise InvalidInput(f"{path.name}: cannot be read as CSV: {first}", zh=f"{path.name}：无法按 CSV 读取：{first}") from None
    except pd.errors.EmptyDataError:
        raise InvalidInput(f"{path.name}: the file has no header row", zh=f"{path.name}：文件没有表头行") from None


def _check_header(path: Path, frame: pd.DataFrame) -> None:
    columns = pd.Index([str(c).replace("\ufeff", "").strip() for c in frame.columns])
    if columns.duplicated().any():
        twice = columns[columns.duplicated()][0]
        raise InvalidInput(f"{path.name}: the header names column {twice!r} twice", zh=f"{path.name}：表头中 {twice!r} 列出现两次")
    if frame.empty:
        raise InvalidInput(f"{path.name}: the file has a header but no data rows", zh=f"{path.name}：文件只有表头，没有数据行")


def _estimate(path: Path, head: bytes, rows: int) -> int:
    """How many rows the whole file holds, from the line length of its first bytes (decides a bulk load)."""
    lines = head.count(b"\n")
    size = path.stat().st_size
    if len(head) >= size or lines < 2:
        return rows
    return max(rows, int(size / (len(head) / lines)))
