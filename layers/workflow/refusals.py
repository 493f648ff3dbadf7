"""Refusals the workflow says at several places, each written once, in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterable

from data.errors import InvalidParameter, NotFound


def not_one_of(parameter: str, choices: Iterable[str], value) -> InvalidParameter:
    """``value`` is none of the ``choices`` of ``parameter``."""
    choices = list(choices)
    return InvalidParameter(parameter, f"must be one of {', '.join(choices)}, not {value!r}",
                            f"须为 {'、'.join(choices)} 之一，而不是 {value!r}")


def not_event_type(category: str, known: Iterable[str]) -> InvalidParameter:
    """``category`` is not one of the city's event types."""
    known = list(known)
    return InvalidParameter("category", f"{category!r} is not an event type; use one of {', '.join(known)}",
                            f"{category!r} 不是事件类型；请用 {'、'.join(known)} 之一")


def no_grid(code: str) -> NotFound:
    return NotFound(f"no grid with code {code}", f"没有编码为 {code} 的网格")


def no_report(shown: str) -> NotFound:
    """No public report has the tracking number ``shown`` (as the message quotes it)."""
    return NotFound(f"no report has the tracking number {shown}", f"没有查询码为 {shown} 的群众反映")


def bad_stage(stage) -> InvalidParameter:
    """A photo's ``stage`` is neither before nor after."""
    return InvalidParameter("stage", f"must be before or after, not {stage!r}",
                            f"须为 before（整改前）或 after（整改后），而不是 {stage!r}")


def same_as_before() -> InvalidParameter:
    """An "after" photo identical (same SHA-256 once cleaned) to a "before" photo: it shows no rectification."""
    return InvalidParameter("file", "this after photo is the very same picture as a before photo (identical "
                                    "content): take a new photo of the place once the work is done",
                            "这张整改后照片与一张整改前照片完全相同（内容一致）：请在整改完成后重新拍摄现场")
