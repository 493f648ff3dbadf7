"""Request dependencies: one small function per thing a route needs (tipg's ``dependencies.py`` style).

Each query-parameter function declares the parameter (name, description) for
the API document, and returns a typed value parsed by :mod:`data.params` or
raises :class:`~data.errors.InvalidParameter` naming it, so a parameter means
the same on every route: a time without a zone is in the city's time zone, a
street code is ASCII digits, a NUL byte is a 422. Routes declare them as
``Annotated[..., Depends(...)]``; the aliases below (``Conn``, ``Lang``,
``Window`` …) are those annotations, written once.

The parameter functions are ``async def`` although they never wait: FastAPI
runs a plain ``def`` dependency in a worker thread, one hand-over and back per
dependency and request, which on a busy machine cost as much as a map tile's
query. Pure parsing runs inline on the event loop; only what touches the
database (``get_conn``, ``transaction``) runs in a thread.

Transactions have one owner: :func:`transaction`. A write route takes
``Transaction`` (not ``Conn``) and never commits itself: the dependency commits
when the route function has returned and before the response is sent
(``scope="function"``), and rolls back on any exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request

from data.db import transaction as db_transaction
from data.errors import InvalidParameter
from data.params import (
    BBox,
    TimeWindow,
    parse_area_code,
    parse_bbox,
    parse_instant,
    parse_int,
    parse_lang,
    parse_list,
    parse_window,
)
from data.vocab import BASEMAPS
from layers.store.features import MAX_OFFSET


def get_conn(request: Request) -> Iterator:
    """A pooled database connection for the length of the request (rolled back when given back)."""
    with request.app.state.db.connection() as conn:
        yield conn


def transaction(conn: Annotated[Any, Depends(get_conn)]) -> Iterator:
    """The request's connection as one transaction (:func:`data.db.transaction`): committed when the
    route returns, else rolled back.

    Declared with ``scope="function"`` (see ``Transaction``): FastAPI then
    runs the code after ``yield`` as soon as the route function returns, before
    the response is sent, so a commit that fails is the answer (5xx), never a
    2xx for a change that was not kept.
    """
    with db_transaction(conn):
        yield conn


Conn = Annotated[Any, Depends(get_conn)]
Transaction = Annotated[Any, Depends(transaction, scope="function")]


async def get_lang(lang: Annotated[Literal["zh", "zh-CN", "en"], Query(description="zh (default) or en")] = "zh") -> str:
    """Language of pages and labels: Chinese first, English on request."""
    return parse_lang(lang)


Lang = Annotated[str, Depends(get_lang)]


async def bbox_query(
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)")] = None,
) -> BBox | None:
    """The optional ``bbox`` filter."""
    return parse_bbox(bbox)


async def bbox_required(bbox: Annotated[str, Query(description="minlon,minlat,maxlon,maxlat (WGS84)")]) -> BBox:
    """A ``bbox`` the route cannot do without (a heatmap's view)."""
    return _required(parse_bbox(bbox), "bbox")


async def time_window(
    since: Annotated[str | None, Query(description="reported at or after (ISO 8601; without a zone: "
                                                   "the city's time zone)")] = None,
    until: Annotated[str | None, Query(description="reported before (ISO 8601; a date is the start of "
                                                   "that day in the city's time zone)")] = None,
) -> TimeWindow:
    """``since`` (inclusive) and ``until`` (exclusive) as one :class:`~data.params.TimeWindow`."""
    return parse_window(since, until)


Window = Annotated[TimeWindow, Depends(time_window)]


async def street_query(
    street: Annotated[str | None, Query(description="street code (e.g. 370602001): only this street's rows")] = None,
) -> str | None:
    """An optional street code."""
    return parse_area_code(street, "street")


Street = Annotated[str | None, Depends(street_query)]


async def street_required(
    street: Annotated[str, Query(description="street code (e.g. 370602001)")],
) -> str:
    """A street code the route cannot do without (a street's page)."""
    return _required(parse_area_code(street, "street"), "street")


async def area_prefix_query(
    street: Annotated[str | None, Query(description="area code or its first characters: "
                                                    "only the rows of that area")] = None,
) -> str | None:
    """An area code of any level, or its first characters (exports by district, street or community)."""
    return parse_area_code(street, "street")


async def grid_query(
    grid: Annotated[str | None, Query(description="grid code: only this grid's rows")] = None,
) -> str | None:
    """An optional grid code."""
    return parse_area_code(grid, "grid")


async def grid_path(code: Annotated[str, Path(description="grid code: community code + sequence")]) -> str:
    """The grid code of a path (``/api/grids/{code}``, ``/print/grids/{code}.pdf``)."""
    return _required(parse_area_code(code, "code"), "code")


GridCode = Annotated[str, Depends(grid_path)]


async def printed_query(
    printed: Annotated[str | None, Query(description="when the sheet whose QR code led here was printed (UTC, "
                                                       "e.g. 20261201T0130Z): a regrid since is said")] = None,
) -> datetime | None:
    """When the printed sheet (or notice board) that links here was made; None when not given."""
    return parse_instant(printed, "printed")


Printed = Annotated[datetime | None, Depends(printed_query)]


async def street_path(code: Annotated[str, Path(description="street code")]) -> str:
    """The street code of a path (``/print/streets/{code}/…``)."""
    return _required(parse_area_code(code, "code"), "code")


StreetCode = Annotated[str, Depends(street_path)]


def check_basemap(basemap: str | None) -> None:
    """InvalidParameter unless a page's ``basemap`` is absent or one of :data:`~data.vocab.BASEMAPS`."""
    if basemap is not None and basemap not in BASEMAPS:
        raise InvalidParameter("basemap", f"must be one of {', '.join(BASEMAPS)}, not {basemap!r}",
                               f"应为 {'、'.join(BASEMAPS)} 之一，而不是 {basemap!r}")


def _required(value, parameter: str):
    """``value``, or InvalidParameter when a required parameter was given empty."""
    if value is None:
        raise InvalidParameter(parameter, "is required and must not be empty", "必须填写，不能为空")
    return value


@dataclass(frozen=True)
class Page:
    """``limit`` (None: the resource's default) and ``offset`` of a page of rows."""

    limit: int | None = None
    offset: int = 0


async def page_query(
    limit: Annotated[int | None, Query(description="rows per page (default and cap are settings)")] = None,
    offset: Annotated[int, Query(description="rows to skip (the next page's offset is in each answer)")] = 0,
) -> Page:
    """``limit`` and ``offset``; each resource checks the limit against its own cap."""
    return Page(parse_int(limit, "limit", 1, MAX_OFFSET), parse_int(offset, "offset", 0, MAX_OFFSET, 0))


Paged = Annotated[Page, Depends(page_query)]


@dataclass(frozen=True)
class LayerFilters:
    """The row filters every layer route takes: street, time window, and value lists by column."""

    street: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)


async def layer_filters(
    street: Street,
    window: Window,
    category: Annotated[str | None, Query(description="complaints: event type name(s), comma-separated")] = None,
    status: Annotated[str | None, Query(description="complaints: workflow state(s), comma-separated")] = None,
) -> LayerFilters:
    """``street``, ``since``/``until``, ``category`` and ``status`` of the layer routes (tipg's CollectionParams)."""
    values = {name: parse_list(raw, name) for name, raw in (("category", category), ("status", status))}
    return LayerFilters(street, window, {name: v for name, v in values.items() if v})


Filtered = Annotated[LayerFilters, Depends(layer_filters)]
