"""Request dependencies: one small function per thing a route needs."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Query, Request


def get_conn(request: Request) -> Iterator:
    """A pooled database connection for the length of the request."""
    with request.app.state.db.connection() as conn:
        yield conn


def get_lang(lang: str = Query("zh", pattern="^(zh|zh-CN|en)$", description="zh (default) or en")) -> str:
    """Page language: Chinese first, English on request."""
    return "en" if lang == "en" else "zh"
