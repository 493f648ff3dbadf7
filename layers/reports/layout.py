"""The flow of a printed bulletin's pages (no figures here): pages filled from the top down, paragraphs with
Chinese line breaking, ruled tables run on over pages, section titles."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from layers.printing.page import MARGIN_MM, ROW_MM, new_page, paper_axes, text_width_mm
from layers.printing.style import Paper
from layers.printing.tables import Column, draw_table

#: Size of the tables' text (pt).
TABLE_PT = 6.8
RED = "#c00000"
#: The page number at each page's foot.
PAGE = {"zh": "第 {n} 页", "en": "page {n}"}


@dataclass
class Flow:
    """Pages filled from the top down: the figure of each page and the height left on the current one."""

    paper: Paper
    lang: str
    pages: list = field(default_factory=list)
    y: float = 0.0

    def page(self):
        fig = new_page(self.paper)
        ax = paper_axes(fig, self.paper)
        self.pages.append((fig, ax))
        W, _ = self.paper.size_mm
        ax.text(W - MARGIN_MM, 6, PAGE[self.lang].format(n=len(self.pages)), fontsize=6.5, ha="right")
        self.y = self.paper.size_mm[1] - MARGIN_MM
        return ax

    @property
    def ax(self):
        return self.pages[-1][1]

    def room(self, height: float):
        """The axes to draw ``height`` mm into, on a new page when this one has not that much left."""
        if not self.pages or self.y - height < MARGIN_MM + 6:
            self.page()
        return self.ax


def wrap(text: str, width_mm: float, size: float) -> list[str]:
    """Lines of ``text`` no wider than ``width_mm`` at ``size`` pt (CJK breaks anywhere, Latin at spaces)."""
    lines, line = [], ""
    for token in _tokens(text):
        if line and text_width_mm(line + token, size) > width_mm:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line.rstrip()] if line else lines


# Chinese line breaking (避头尾, GB/T 15834): closing marks never start a line, opening marks never end one.
_CLOSING = set("。，、；：？！）》」』】〕〉％")
_OPENING = set("（《「『【〔〈")


def _tokens(text: str) -> list[str]:
    """Single CJK characters and Latin words with their trailing space, each closing mark kept with what it
    closes and each opening mark with what it opens (a line never starts with 。 nor ends with （)."""
    out, word, opening = [], "", ""
    for ch in text:
        if ord(ch) <= 0x2E7F:
            word += ch
            if ch == " ":
                out.append(opening + word)
                word = opening = ""
            continue
        if word:
            out.append(opening + word)
            word = opening = ""
        if ch in _OPENING:
            opening += ch
        elif ch in _CLOSING and out:
            out[-1] += ch
        else:
            out.append(opening + ch)
            opening = ""
    return [*out, opening + word] if word or opening else out


def paragraph(flow: Flow, text: str, size: float, *, color: str = "black") -> None:
    width = flow.paper.size_mm[0] - 2 * MARGIN_MM
    line_h = size * 0.52
    for line in wrap(text, width, size):
        ax = flow.room(line_h)
        ax.text(MARGIN_MM, flow.y - line_h / 2, line, fontsize=size, va="center", color=color)
        flow.y -= line_h


def table(flow: Flow, title: str | None, columns: list[Column], rows: list[list[str]],
           marks: list[str] | None = None):
    """A table with a title (or none), run on over pages; ``marks`` colours a row's last cell red (红榜) or bold
    black."""
    width = flow.paper.size_mm[0] - 2 * MARGIN_MM
    columns = _fitted(columns, rows, width)
    first = True
    while first or rows:
        flow.room(5.0 + 3 * ROW_MM)
        head = 5.0 if first and title else 0.0
        fit_rows = max(1, int((flow.y - MARGIN_MM - 8 - head) // ROW_MM) - 1)
        chunk, rows = rows[:fit_rows], rows[fit_rows:]
        height = head + ROW_MM * (len(chunk) + 1)
        shown = [r[:-1] + [""] if marks and marks[k] == "red" else r for k, r in enumerate(chunk)]
        draw_table(flow.ax, (MARGIN_MM, flow.y - height, width, height), columns, shown,
                   title=title if first else None, size=TABLE_PT)
        if marks:
            _marks(flow, columns, chunk, marks[:len(chunk)], bool(head))
            marks = marks[len(chunk):]
        flow.y -= height + 4
        first = False


def _fitted(columns: list[Column], rows: list[list[str]], width: float) -> list[Column]:
    """Columns as wide as their widest text (heading or cell, and a margin) when all of them fit the table's
    width (the spare width shared in proportion); else the shares given, the table shortening what does not fit."""
    needed = [max(text_width_mm(text, TABLE_PT) for text in [c.title, *(r[k] for r in rows)]) + 2.0
              for k, c in enumerate(columns)]
    if sum(needed) > width:
        return columns
    return [replace(c, width=w) for c, w in zip(columns, needed)]


def _marks(flow: Flow, columns: list[Column], chunk: list[list[str]], marks: list[str], titled: bool) -> None:
    """Red list marks in red in their cell (left empty by the table; black list marks are drawn black)."""
    width = flow.paper.size_mm[0] - 2 * MARGIN_MM
    share = columns[-1].width / sum(c.width for c in columns)
    x = MARGIN_MM + width * (1 - share / 2)  # the centre of the last column
    top = flow.y - (5.0 if titled else 0) - ROW_MM
    for k, mark in enumerate(marks):
        if mark == "red":
            y = top - ROW_MM * (k + 0.5)
            flow.ax.text(x, y, chunk[k][-1], fontsize=TABLE_PT, va="center", ha="center", color=RED)

def heading_line(flow: Flow, text: str, height: float) -> None:
    """A section title, on a new page when the ``height`` mm under it do not fit."""
    flow.room(height + 6)
    flow.ax.text(MARGIN_MM, flow.y - 2.2, text, fontsize=TABLE_PT + 1.8, va="center")
    flow.y -= 6


def table_or_none(flow: Flow, title: str, columns: list[Column], rows: list[list[str]], none: str) -> None:
    """A titled table, or its title and the sentence ``none`` when it has no row (never an empty table)."""
    if rows:
        table(flow, title, columns, rows)
        return
    heading_line(flow, title, 10)
    paragraph(flow, none, 8)
    flow.y -= 4
