"""A document's own font: the print font cut to the characters the document shows, with the whole font
as the fallback when a character was left out."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from PIL import Image

from layers.printing.fonts import document_characters, document_font
from layers.printing.pdf import with_fallback
from layers.printing.style import rc_params, register_font

WORDS = "烟霞市 新苑街道 川滨社区3号网格"


def _draw(text: str):
    def draw(buffer, font: str | None) -> None:
        with matplotlib.rc_context(rc_params(register_font(font))):
            with PdfPages(buffer) as pdf:
                fig = Figure(figsize=(4, 2))
                fig.text(0.1, 0.5, text, fontsize=14)
                pdf.savefig(fig)
    return draw


def _text_and_fonts(pdf: bytes, tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, fonts


def _picture(pdf: bytes, prefix: Path) -> np.ndarray:
    prefix.with_suffix(".pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(prefix.with_suffix(".pdf")), str(prefix)],
                   check=True)
    return np.asarray(Image.open(f"{prefix}.png").convert("L"))


def test_the_document_font_holds_only_what_the_document_shows_and_is_gone_after(tmp_path):
    with document_font(None, {"title": WORDS}) as path:
        size = Path(path).stat().st_size
        pdf = with_fallback(_draw(WORDS), (path, None))
    text, fonts = _text_and_fonts(pdf, tmp_path)
    assert WORDS in text
    assert "WenQuanYiMicroHei" in fonts  # the PDF names the font as before
    assert size < 1_000_000  # the whole WenQuanYi Micro Hei is 5 MB
    assert not Path(path).exists()
    assert all(f.fname != path for f in font_manager.fontManager.ttflist)


def test_a_character_left_out_of_the_document_font_is_drawn_with_the_whole_font(tmp_path):
    left_out = "\u4e28\u4e2b"  # 丨丫: in the font, in no module's words
    assert not set(left_out) & set(document_characters({"title": "烟霞市"}))
    with document_font(None, {"title": "烟霞市"}) as path:
        pdf = with_fallback(_draw("烟霞市" + left_out), (path, None))
    whole = io.BytesIO()
    _draw("烟霞市" + left_out)(whole, None)
    # Looked at as pictures: the same glyphs as with the whole font, no empty boxes.
    assert np.array_equal(_picture(pdf, tmp_path / "fallback"), _picture(whole.getvalue(), tmp_path / "whole"))


def test_document_characters_come_from_the_data_the_words_and_ascii():
    chars = document_characters([("grid", {"name": "𬭚鿏"})])
    assert "𬭚" in chars and "鿏" in chars  # from the data
    assert "明" in chars  # 明察暗访巡查图, a page word
    assert "A" in chars and "9" in chars
