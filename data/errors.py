"""The one exception hierarchy of hygiene-map.

Every error raised on purpose is a :class:`HygieneMapError`; its message is
written for the user (what is wrong and how to fix it) and never contains a
traceback nor a secret (:func:`data.redact.redact` cleans every message:
a database URL's password, a token). ``api/errors.py`` maps each class to one HTTP status, and the CLI
prints the message on one line and exits non-zero.
"""

from __future__ import annotations

from data.redact import redact


class HygieneMapError(Exception):
    """Base of every error hygiene-map raises on purpose; ``zh``, where given, says it in Chinese for pages."""

    def __init__(self, message: str, zh: str | None = None):
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.zh = redact(zh) if zh else None

    def __str__(self) -> str:
        return self.message


class SetupError(HygieneMapError):
    """The machine or the configuration is not fit to run (missing server, bad path, busy port)."""


class DatabaseUnavailable(HygieneMapError):
    """The database cannot be reached or did not answer in time."""


class DatabaseUnreachable(DatabaseUnavailable):
    """No connection to the database (refused, timed out, lost). ``message`` names the server and the driver's
    reason for the administrator (the CLI, the server log); a caller of the web server is told only :data:`PUBLIC`
    (the address, user and database name help an attacker, libpq's English helps no clerk)."""

    PUBLIC = ("the database cannot be reached at the moment; please try again shortly",
              "数据库暂时无法连接，请稍后再试")


class NotFound(HygieneMapError):
    """A named thing (layer, grid, complaint, street) does not exist."""


class InvalidParameter(HygieneMapError):
    """A request or command parameter is malformed or out of range."""

    def __init__(self, parameter: str, reason: str, zh: str | None = None):
        super().__init__(f"{parameter}: {reason}", f"{parameter}：{zh}" if zh else None)
        self.parameter = parameter
        self.reason = reason
        self.reason_zh = zh


class InvalidInput(HygieneMapError):
    """An input file or body has bad rows; ``problems`` lists each one."""

    def __init__(self, message: str, problems: list | None = None, zh: str | None = None):
        super().__init__(message, zh)
        self.problems = problems or []


class Conflict(HygieneMapError):
    """The request contradicts the current state (e.g. an illegal status transition)."""


class Unauthorized(HygieneMapError):
    """No valid credentials were given."""


class LoginRequired(Unauthorized):
    """No valid credentials were given for a page: the browser is sent to the login page."""


class Forbidden(HygieneMapError):
    """The credentials do not allow this action or scope."""


class TooBusy(HygieneMapError):
    """Too much costly work at once (per client or overall): try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int, zh: str | None = None):
        super().__init__(message, zh)
        self.retry_after = retry_after
