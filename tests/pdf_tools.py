"""Reading a printed PDF as a user's reader would: poppler's pdfinfo, pdftotext, pdffonts and pdftoppm; pypdf for
the colours its shapes are painted in."""

from __future__ import annotations

import html
import re
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from layers.printing.style import Paper


def pdfinfo(path: Path) -> dict[str, str]:
    """pdfinfo's fields (Pages, Page size …) by name."""
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def page_size_pt(info: dict[str, str]) -> tuple[float, float]:
    """(width, height) in points of the first page, from :func:`pdfinfo`."""
    w, h = re.match(r"\s*([\d.]+) x ([\d.]+) pts", info["Page size"]).groups()
    return float(w), float(h)


def pdftext(path: Path, page: int | None = None) -> str:
    """The text of the document (or of one page), laid out as on paper."""
    args = ["pdftotext", "-layout"]
    if page:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run(args + [str(path), "-"], capture_output=True, text=True, check=True).stdout


def printed_param(path: Path) -> str:
    """``&printed=…`` of a grid sheet's map link, as printed beneath its QR code (the sheet's time, UTC)."""
    raw = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.search(r"&printed=\d{8}T\d{6}Z", raw.replace("\n", "")).group(0)


def pdffonts(path: Path) -> tuple[list[list[str]], str]:
    """pdffonts' rows (split into words) and what it said on stderr."""
    done = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in done.stdout.splitlines()[2:] if line.strip()]
    return rows, done.stderr


def render_page(path: Path, page: int, dpi: int, tmp_path: Path) -> Image.Image:
    """One page rendered at ``dpi`` by pdftoppm, in grey."""
    prefix = tmp_path / f"p{page}-{dpi}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile", str(path),
                    str(prefix)], check=True)
    return Image.open(f"{prefix}.png").convert("L")


def crop_mm(image: Image.Image, paper: Paper, rect: tuple) -> np.ndarray:
    """The pixels of a rectangle given in page millimetres from the lower left."""
    W, H = paper.size_mm
    px_per_mm = image.width / W
    x, y, w, h = rect
    box = (round(x * px_per_mm), round((H - y - h) * px_per_mm), round((x + w) * px_per_mm),
           round((H - y) * px_per_mm))
    return np.asarray(image.crop(box))


#: PDF operators that fill and stroke a shape (a marker), and the one that draws a stored shape (a marker used
#: more than once: matplotlib stores it once and draws it at each place).
_FILL_AND_STROKE, _DRAW_STORED = {b"B", b"B*", b"b", b"b*"}, b"Do"


def painted_markers(path: Path, page: int = 1) -> Counter:
    """How many shapes a page fills and strokes, by their (fill, stroke) colours as RGB rounded to two decimals:
    read from the page's drawing operators (rg and RG, g and G for greys, q, Q) as a PDF reader paints them."""
    return Counter(state for state, operator in _painting(path, page)
                   if operator in _FILL_AND_STROKE or operator == _DRAW_STORED)


def _painting(path: Path, page: int):
    """Each painting operator of a page with the (fill, stroke) colours it paints in, the graphics state kept."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(str(path))
    content = ContentStream(reader.pages[page - 1].get_contents(), reader)
    state, saved = ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)), []
    for operands, operator in content.operations:
        if operator == b"q":
            saved.append(state)
        elif operator == b"Q":
            state = saved.pop()
        elif operator in (b"rg", b"g"):
            state = (_colour(operands), state[1])
        elif operator in (b"RG", b"G"):
            state = (state[0], _colour(operands))
        else:
            yield state, operator


def _colour(operands) -> tuple[float, float, float]:
    """An RGB colour or a grey level, as RGB rounded to two decimals."""
    values = [round(float(v), 2) for v in operands]
    return tuple(values * 3 if len(values) == 1 else values)


def rgb(hex_colour: str) -> tuple[float, float, float]:
    """'#2b6cb0' as painted_markers reads a colour."""
    return tuple(round(int(hex_colour[i:i + 2], 16) / 255, 2) for i in (1, 3, 5))


def stroked_lines(path: Path, page: int = 1) -> Counter:
    """How many paths a page strokes without filling them (lines: roads, trails), by stroke colour as
    :func:`painted_markers` reads colours."""
    return Counter(stroke for (_, stroke), operator in _painting(path, page) if operator == b"S")


PT_PER_MM = 72 / 25.4
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def words(pdf: Path, page: int = 1) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every word of a page and its box in millimetres from the page's upper left (pdftotext -bbox)."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(html.unescape(w), tuple(float(v) / PT_PER_MM for v in box))
            for *box, w in ((m[0], m[1], m[2], m[3], m[4]) for m in _WORD.findall(out))]
