"""`hygiene-map print grid|atlas|route`: field maps for on-site reviews (明察暗访) as PDF."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from data.said import plural, say

_PAPER = click.Choice(["A4", "A3"], case_sensitive=False)

#: What the print commands print, in Chinese and in English (data.said.say); the numbers and paths are the same.
_SAID = {
    "wrote": ("已写入 {out}：{pages} 页（{title}），用时 {took:.1f} 秒",
              "wrote {out}: {pages} page{pages_s} ({title}) in {took:.1f} s"),
    "qr_local": ("说明：二维码打开的是 {url}（默认的本机地址）；请把 HYGIENE_MAP_PUBLIC_URL 设为用户访问地图的地址，再重新打印",
                 "note: the QR codes open {url} (the default local address); set HYGIENE_MAP_PUBLIC_URL to the "
                 "address users reach the maps at, then print again"),
}


def _common(fn):
    """The options every print command shares."""
    fn = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                      help="language of the page texts")(fn)
    fn = click.option("--landscape", is_flag=True, help="landscape instead of portrait")(fn)
    fn = click.option("--paper", type=_PAPER, default="A4", show_default=True, help="paper size")(fn)
    fn = click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="the PDF to write (default: KIND-CODE.pdf in the current directory)")(fn)
    return fn


@click.group("print")
def print_group() -> None:
    """Print field maps as vector PDF: one grid, a street's atlas, or an inspection route."""


class _Bar:
    """A tqdm progress bar on stderr that follows the stages of a print job."""

    def __init__(self, label: str):
        from tqdm import tqdm

        self._bar = tqdm(total=0, unit="page", desc=label, file=sys.stderr, disable=None, mininterval=0.5)
        self._stage = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self._stage = stage
            self._bar.reset(total=total)
            self._bar.set_description(stage)
            self._bar.unit = "grid" if stage == "loading" else "page"
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _run(kind: str, code: str, out: Path | None, load, **kwargs) -> None:
    """Load a document with ``load`` (a loader of layers.printing.docs), then draw it to ``out``."""
    from data.db import connect
    from data.errors import InvalidParameter
    from layers.printing.docs import PrintOptions, default_out

    options = PrintOptions(paper=kwargs.pop("paper").upper(), landscape=kwargs.pop("landscape"),
                           lang=kwargs.pop("lang"))
    out = out or default_out(kind, code)
    if out.suffix.lower() != ".pdf":
        raise InvalidParameter("--out", f"{out} must end in .pdf", f"{out} 应以 .pdf 结尾")
    if not out.parent.exists():
        raise InvalidParameter("--out", f"the folder {out.parent} does not exist", f"文件夹 {out.parent} 不存在")
    started = time.monotonic()
    conn = connect()
    bar = _Bar(kind)
    partial = out.with_name(out.name + ".partial")
    try:
        try:
            document = load(conn, code, options=options, progress=bar, **kwargs)
        finally:
            # This command owns the connection and only read with it: closing it ends the read
            # transaction before drawing, which needs no database and takes minutes for an atlas.
            conn.close()
        # Written beside the target, then renamed: a failed job leaves no half-written PDF.
        document.write(str(partial), progress=bar)
        partial.replace(out)
    finally:
        bar.close()
        partial.unlink(missing_ok=True)
    took = time.monotonic() - started
    pages = len(document.pages)
    click.echo(say(_SAID, "wrote", options.lang, out=out, pages=pages, pages_s=plural(pages), title=document.title,
                   took=took))
    if document.note:  # a route of fewer stops than --top asked for
        click.echo(document.note)
    _say_where_qr_points(options.lang)


def _say_where_qr_points(lang: str) -> None:
    """Name the base URL the QR codes open when it is only the local default."""
    from data.settings import LinkSettings

    settings = LinkSettings.from_env()
    if settings.public_url is None:
        click.echo(say(_SAID, "qr_local", lang, url=settings.fallback_url()))


@print_group.command("grid")
@click.argument("code")
@_common
def print_grid_cmd(code: str, out: Path | None, **kwargs) -> None:
    """The sheet of one grid: map, checklist, responsible unit, QR code."""
    from layers.printing.docs import grid_document

    _run("grid", code, out, grid_document, **kwargs)


@print_group.command("atlas")
@click.option("--street", "street", required=True, help="street (街道) code")
@_common
def print_atlas_cmd(street: str, out: Path | None, **kwargs) -> None:
    """A street's atlas: cover with every grid, an index, then one sheet per grid."""
    from layers.printing.docs import atlas_document

    _run("atlas", street, out, atlas_document, **kwargs)


@print_group.command("route")
@click.option("--street", "street", required=True, help="street (街道) code")
@click.option("--top", type=int, default=10, show_default=True, help="how many grids to visit (highest priority)")
@_common
def print_route_cmd(street: str, top: int, out: Path | None, **kwargs) -> None:
    """An inspection route through the TOP grids that most need a visit, in a short walking order."""
    from layers.printing.docs import route_document

    _run("route", street, out, lambda conn, code, **kw: route_document(conn, code, top, **kw), **kwargs)
