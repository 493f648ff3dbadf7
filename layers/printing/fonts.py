"""The CJK font of one document: the print font cut down to the characters the document can show.

matplotlib embeds a font by subsetting the font file with fontTools when a
PDF is closed, once per 256-glyph block of alternates: with the 50,000
glyphs of WenQuanYi Micro Hei each subsetting re-reads the whole font
(≈ 0.6–1.5 s, its layout tables mostly). An atlas drawn in worker processes
closes one PDF per part, so it paid that per part and block. Cut once per
document to the characters it can show, the font is small and every later
subsetting (and each worker's loading of it) is quick. The outlines,
advances and layout tables of the kept glyphs are the font's own, so the
pages look the same; the PDF still names the font by its PostScript name.

Which characters: printable ASCII, every non-ASCII character written in the
source of the printing modules and the page words, and every character of
every string in the document's data. A page that still needs another one
(a worker sees matplotlib's "missing from font" warning) is drawn again
with the whole font (layers/printing/pdf.py).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from layers.printing.style import TERMS_EN, TEXT, font_face, forget_font

#: The warning matplotlib gives for a character the font has no glyph for.
MISSING_GLYPH = "missing from font"


@functools.lru_cache(maxsize=1)
def _source_characters() -> frozenset[str]:
    """Non-ASCII characters of the printing modules' source: the punctuation and words drawn from code."""
    text = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("*.py"))
    return frozenset(ch for ch in text if ord(ch) > 127)


def _collect(obj, out: set[str]) -> None:
    """Every character of every string in ``obj`` (dataclasses, mappings, sequences) into ``out``."""
    if isinstance(obj, str):
        out.update(obj)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _collect(key, out)
            _collect(value, out)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for item in obj:
            _collect(item, out)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            _collect(getattr(obj, f.name), out)
    # numbers, dates, geometries, arrays: drawn with ASCII characters, or not as text


def module_words(*modules) -> str:
    """Non-ASCII characters of ``modules``' source: the words a document draws from code outside the printing
    modules (table headings, units), for :func:`document_font` (a page missing one is drawn twice)."""
    text = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in modules)
    return "".join(sorted({ch for ch in text if ord(ch) > 127}))


def document_characters(*objects) -> str:
    """The characters a document made of ``objects`` can show, sorted."""
    out = set(string.printable) | _source_characters()
    _collect((TEXT, TERMS_EN, objects), out)
    out -= set("\t\n\r\x0b\x0c")
    return "".join(sorted(out))


def subset_font(face: tuple[str, int, str], characters: str, folder: str) -> tuple[str, str]:
    """Write the font ``face`` (file, face index, family) cut to ``characters`` into ``folder``.

    Returns the file's path and its family name: the font's family with a
    suffix of its own (matplotlib's font matching must take neither the
    system's whole font nor an earlier document's font for it; the
    PostScript name, which the PDF shows, is kept).
    """
    from fontTools import subset

    path, index, family = face
    options = subset.Options()
    options.font_number = index
    options.layout_features = ["*"]  # keep kerning and every substitution: text is laid out as before
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.drop_tables += ["FFTM"]  # FontForge's time stamp, which fontTools cannot subset
    font = subset.load_font(path, options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=[ord(ch) for ch in characters])
    subsetter.subset(font)
    digest = hashlib.sha256((folder + characters).encode()).hexdigest()[:10]
    name = f"{family} hm{digest}"
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = name
    out = str(Path(folder) / f"print-font-{digest}.ttf")
    font.save(out)
    font.close()
    return out, name


@contextmanager
def document_font(whole: str | None, *objects) -> Iterator[str]:
    """The path of a document's own font (the font ``whole`` cut to what ``objects`` can show), removed after."""
    with tempfile.TemporaryDirectory(prefix="hygiene-map-font-") as folder:
        path, _ = subset_font(font_face(whole), document_characters(*objects), folder)
        try:
            yield path
        finally:
            forget_font(path)
