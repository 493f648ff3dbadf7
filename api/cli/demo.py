"""`hygiene-map demo`: load the synthetic demo city."""

from __future__ import annotations

import sys
import time

import click

from api.cli.output import LANG
from data.demo.scales import SCALES
from data.said import say

#: What the demo command prints, in Chinese and in English (data.said.say).
_SAID = {
    "generating": ("正在生成演示城市（{scale_zh}，随机种子 {seed}）…", "generating the {scale} demo city (seed {seed}) …"),
    "loaded": ("载入完成，用时 {seconds:.1f} 秒", "loaded in {seconds:.1f} s"),
}
_SCALE_ZH = {"small": "小型", "city": "全市规模"}


@click.command("demo")
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True,
              help="small: seconds, for tests; city: 6 districts, 1,000,000 complaints")
@click.option("--seed", type=int, default=1, show_default=True, help="same seed, same city")
@LANG
def demo(scale: str, seed: int, lang: str) -> None:
    """Load the synthetic demo city (fictional, near Yantai), replacing every layer."""
    from tqdm import tqdm

    from data.db import check_postgis, session, transaction
    from data.demo.city import generate
    from data.demo.load import load
    from data.migrate import migrate

    started = time.monotonic()
    with session() as conn:
        check_postgis(conn)
        migrate(conn)
        click.echo(say(_SAID, "generating", lang, scale=scale, scale_zh=_SCALE_ZH[scale], seed=seed), err=True)
        city = generate(scale, seed)
        with tqdm(total=SCALES[scale].complaints, unit="complaints" if lang == "en" else "条投诉",
                  desc="loading" if lang == "en" else "载入", file=sys.stderr,
                  disable=None, mininterval=1.0) as bar:

            def progress(label: str, n: int) -> None:
                bar.set_description(label)
                bar.update(n)

            with transaction(conn):
                counts = load(conn, city, progress)
    _print_counts(counts, lang)
    click.echo(say(_SAID, "loaded", lang, seconds=time.monotonic() - started))


def _print_counts(counts: dict[str, int], lang: str) -> None:
    """One line per layer loaded: its name in ``lang`` (the table's own id beside it) and its row count, aligned."""
    from layers.spec.registry import get_layer

    labels = {table: f"{get_layer(table).name_zh}（{table}）" if lang == "zh" else table for table in counts}
    width = max(_columns(label) for label in labels.values())
    for table, n in counts.items():
        click.echo(labels[table] + " " * (width - _columns(labels[table])) + f" {n:>9,d}")


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes: CJK characters and full-width punctuation take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
