"""The analyses by name: each declared once, loaded on demand, used alike by the HTTP routes and the CLI.

After pygeoapi's plugin loader: :data:`ANALYSES` names the class of each
analysis and :func:`load` imports its module the first time it is asked
for. Each class, a subclass of :class:`Analysis`, declares:

* its parameters, each read by one parser of :mod:`data.params` (a time
  without a zone is the city's, everywhere), so ``/api/analysis/…?since=``
  and ``hygiene-map analyze … --since`` mean the same;
* its compute entry, the one place that calls ``geo/``;
* its encoders: the GeoJSON both surfaces give (the HTTP answer and
  ``--out FILE.geojson`` are the same bytes), the rows ``--out`` writes as
  CSV or XLSX and the report the CLI prints;
* the tables it reads, which stamp its answers in the cache
  (:mod:`layers.analysis.cache`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from data.catalog import check_area_prefix
from data.errors import InvalidParameter, NotFound
from data.params import clean_text, parse_number, parse_window

#: Analysis name → the class declaring it.
ANALYSES = {
    "coverage": "layers.analysis.coverage.Coverage",
    "density": "layers.analysis.density.Density",
    "hotspots": "layers.analysis.hotspots.Hotspots",
    "priority": "layers.analysis.priority.Priority",
    "siting": "layers.analysis.siting.Siting",
}

#: Raw values by parameter name: text, texts (repeated), a bool (a CLI flag) or None (absent).
Raw = Mapping[str, Any]
Args = dict[str, Any]


@dataclass(frozen=True)
class Option:
    """One query parameter, and the command option ``--name-with-dashes`` of the same meaning."""

    name: str
    help: str
    default: str | None = None
    kind: Literal["text", "flag", "list"] = "text"  # flag: a yes/no switch; list: repeated or comma-separated
    cli: bool = True  # also a command option
    cli_required: bool = False  # the command insists on it (the route has its default)

    def label(self, cli: bool) -> str:
        """The name as the user wrote it: ``since`` in a query, ``--since`` on the command line."""
        return "--" + self.name.replace("_", "-") if cli else self.name


@dataclass(frozen=True)
class Param:
    """One typed argument of an analysis, read from one or more options by one parser."""

    key: str
    options: tuple[Option, ...]
    #: (raw value per option, the options' names as written) → the typed value.
    parse: Callable[[tuple, tuple[str, ...]], Any]


def param(name: str, parse: Callable[[Any, str], Any], help: str, **option: Any) -> Param:
    """An argument read from the option of the same name by ``parse(raw, name)``."""
    return Param(name, (Option(name, help, **option),), lambda raws, names: parse(raws[0], names[0]))


def window(since_help: str, until_help: str | None = None) -> Param:
    """``window``: a :class:`~data.params.TimeWindow` from ``since`` (and ``until`` when it has help)."""
    options = (Option("since", since_help),) + ((Option("until", until_help),) if until_help else ())

    def parse(raws: tuple, names: tuple[str, ...]):
        return parse_window(raws[0], raws[1] if until_help else None, (names[0], names[-1]))

    return Param("window", options, parse)


@dataclass
class Report:
    """What the CLI prints of a result: lines, a table (its first rows unless ``whole``), lines."""

    head: list[str]
    headers: list[str]
    rows: list[list]
    tail: list[str] = field(default_factory=list)
    whole: bool = False


#: The analyses whose HTTP routes are costly work (issue 14): siting's greedy rounds, city-wide Gi* hot spots.
COSTLY = frozenset({"siting", "hotspots"})


class Analysis:
    """One analysis: what it reads, how it computes and how its result is written.

    A subclass sets the class attributes and writes ``compute``, ``geojson``
    and ``report`` (``rows`` and ``check`` where the defaults do not fit).
    """

    name: str
    summary: str
    params: tuple[Param, ...]
    #: The tables it reads: its answers are kept while they are unchanged.
    tables: tuple[str, ...]
    #: The level its ``by`` falls back to without one (else the city's finest): None where it takes no ``by``.
    by_default: str | None = None

    @property
    def costly(self) -> bool:
        """Seconds of CPU over the whole city: the HTTP route is limited per client and overall (api/limits.py)."""
        return self.name in COSTLY

    def run(self, conn, args: Args, cache=None) -> Any:
        """:meth:`compute`, once the areas the arguments name are known to exist (else NotFound)."""
        if args.get("street"):
            check_area_prefix(conn, args["street"], "street")
        return self.compute(conn, args, cache)

    def compute(self, conn, args: Args, cache=None) -> Any:
        """geo's result; ``cache`` (an AnswerCache, or None) may keep a part shared by several answers."""
        raise NotImplementedError

    def geojson(self, result: Any, args: Args, lang: str) -> bytes:
        """The FeatureCollection both surfaces give."""
        raise NotImplementedError

    def report(self, result: Any, args: Args, lang: str) -> Report:
        """What the CLI prints."""
        raise NotImplementedError

    def rows(self, result: Any) -> list[dict]:
        """The rows ``--out`` and ``format=`` write to CSV or XLSX; where some areas' communities cover only part of
        them (``partly_drawn``), a column ``communities_drawn_pct`` says how much, for those areas only."""
        partly = {a["code"]: a["drawn_pct"] for a in result.get("partly_drawn") or []}
        if not any(r.get("code") in partly for r in result["rows"]):
            return result["rows"]
        return [{**r, "communities_drawn_pct": partly.get(r.get("code"))} for r in result["rows"]]

    def notes(self, result: Any, lang: str) -> list[str]:
        """What a workbook says under its table, as the page and the command line say it: which areas'
        residents are not added up from communities that cover only part of them."""
        from layers.analysis.coverage import partly_drawn_note  # it imports this module

        note = partly_drawn_note(result, lang) if isinstance(result, dict) else None
        return [note] if note else []

    def total(self, result: Any, lang: str) -> dict | None:
        """A workbook's 合计 row, keyed as :meth:`rows` (its ``label`` in the first column), or None for none."""
        return None

    def of_grids(self, result: Any) -> bool:
        """Whether the rows are grids, whose generated names an English workbook says in English
        (:func:`data.said.grid_name`): a result by grid."""
        return isinstance(result, dict) and result.get("by") == "grid"

    def check(self, args: Args) -> None:
        """Checks across arguments that need no database: a bad request is refused before any work."""

    @property
    def options(self) -> tuple[Option, ...]:
        return tuple(option for p in self.params for option in p.options)

    def parse(self, raw: Raw, *, cli: bool = False) -> Args:
        """The typed arguments from raw values (absent ones take their option's default)."""
        args = {}
        for p in self.params:
            for o in p.options:  # click takes a required option with default None as given: asked here
                if cli and o.cli_required and raw.get(o.name) is None:
                    raise InvalidParameter(o.label(cli), f"is required ({o.help})", "必须给出")
            raws = tuple(o.default if raw.get(o.name) is None else raw[o.name] for o in p.options)
            args[p.key] = p.parse(raws, tuple(o.label(cli) for o in p.options))
        self.check(args)
        return args


def names() -> tuple[str, ...]:
    """The names of every analysis."""
    return tuple(ANALYSES)


@cache
def load(name: str) -> Analysis:
    """The analysis called ``name``, its module imported on first use."""
    if name not in ANALYSES:
        raise NotFound(f"no analysis {name!r}; there are {', '.join(ANALYSES)}",
                       f"没有名为 {name!r} 的分析；可用的有：{'、'.join(ANALYSES)}")
    module, _, cls = ANALYSES[name].rpartition(".")
    return getattr(importlib.import_module(module), cls)()


def key(analysis: Analysis, args: Args, lang: str) -> tuple:
    """A hashable key of one request: the analysis, its typed arguments and the language."""
    return (analysis.name, lang, tuple(sorted(args.items())))


def optional_number(raw: str | float | None, name: str) -> float | None:
    """A finite number, None when absent (radius, cell)."""
    if isinstance(raw, (int, float)):
        raw = str(raw)
    return parse_number(raw, name) if clean_text(raw, name) else None

