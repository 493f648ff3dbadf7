"""JSON request bodies: the base every body model derives from and the field types they share.

Every body refuses fields it does not declare and strips text; a text field
(:data:`Text`) refuses NUL, which PostgreSQL text cannot hold, as a bad field
(422) rather than a server error; a date-time field (:data:`Instant`) is read
by :func:`data.params.parse_instant`, so a time without a zone is the city's,
as on every query parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo

from api.validation import Refusal
from data.errors import InvalidParameter
from data.params import parse_instant
from layers.workflow.phones import phone_problem


class Body(BaseModel):
    """A JSON body: undeclared fields refused (a misspelt field is an error, not ignored), text stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def no_nul(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters: refuse them as a bad field, not a server error."""
    if value is not None and "\x00" in value:
        raise Refusal("must not contain NUL (\\x00) characters", "不能含 NUL（\\x00）字符")
    return value


def body_instant(value, info: ValidationInfo) -> datetime | None:
    """A body's date-time field read by :func:`data.params.parse_instant` (the city's zone when none is given)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        raise Refusal("must be an ISO 8601 date-time string, such as 2026-01-31T08:00:00+08:00",
                      "应为 ISO 8601 日期时间文本，如 2026-01-31T08:00:00+08:00")
    try:
        return parse_instant(value, info.field_name)
    except InvalidParameter as exc:
        raise Refusal(exc.reason, exc.reason_zh or exc.reason) from None


#: Text in a body (NUL refused).
Text = Annotated[str, AfterValidator(no_nul)]
#: A date-time in a body (ISO 8601; without a zone, the city's time zone).
Instant = Annotated[datetime, BeforeValidator(body_instant)]


def phone_number(value: str | None) -> str | None:
    """A phone number by the one rule of :mod:`layers.workflow.phones` (a grid manager's, a resident's), refused
    in its words (not as the pattern it must match); kept as written, the workflow stores it normalised."""
    if value is not None and (bad := phone_problem(value)) is not None:
        raise Refusal(*bad)
    return value


#: A phone number in a body: ``0535-6123456``, ``(212) 555-0100``, ``（0535）6612345``.
Phone = Annotated[str, AfterValidator(phone_number)]
