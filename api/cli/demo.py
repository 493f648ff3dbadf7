"""`hygiene-map demo`: load the synthetic demo city."""

from __future__ import annotations

import sys
import time

import click

from data.demo.scales import SCALES


@click.command("demo")
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True,
              help="small: seconds, for tests; city: 6 districts, 1,000,000 complaints")
@click.option("--seed", type=int, default=1, show_default=True, help="same seed, same city")
def demo(scale: str, seed: int) -> None:
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
        click.echo(f"generating the {scale} demo city (seed {seed}) …", err=True)
        city = generate(scale, seed)
        with tqdm(total=SCALES[scale].complaints, unit="complaints", desc="loading", file=sys.stderr,
                  disable=None, mininterval=1.0) as bar:

            def progress(label: str, n: int) -> None:
                bar.set_description(label)
                bar.update(n)

            with transaction(conn):
                counts = load(conn, city, progress)
    for table, n in counts.items():
        click.echo(f"{table:18s} {n:>9,d}")
    click.echo(f"loaded in {time.monotonic() - started:.1f} s")
