"""Secrets out of text: the one function every message, answer and log line goes through.

A database URL may carry its password in three forms, and a driver's error
may quote any of them::

    postgresql://user:secret@host/db          (userinfo)
    postgresql://user@host/db?password=secret (query parameter)
    host=h user=u password=secret dbname=db   (key=value DSN; also password='se cret')

Request logs may carry bearer tokens, ``token=`` query parameters and
session cookies. :func:`redact` replaces every such value with ``***``;
:mod:`data.errors` applies it to every project error's message, the access
log and the CLI apply it to what they print.
"""

from __future__ import annotations

import re

MASK = "***"

# Names whose value is a secret wherever they appear as name=value (URL queries, DSNs, log lines).
SECRET_NAMES = ("password", "passwd", "pwd", "token", "access_token", "session", "sslpassword", "api_key", "key", "tk")

# scheme://user:password@ — the password is everything up to the last @ before the host.
_USERINFO = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\s]*):(?P<secret>[^@\s/]*(?:@[^@\s/]*)*)@")
# name=value in a query (value ends at & # or whitespace) or a DSN (quoted value may hold spaces).
_NAMED = re.compile(
    r"(?P<head>(?<![A-Za-z0-9_])(?:" + "|".join(SECRET_NAMES) + r")\s*=\s*)"
    r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&#'\",;)]+?(?=:?(?:[\s&#'\",;)]|$)))",
    re.IGNORECASE,
)
# Authorization: Bearer <token> (and Basic) quoted in text.
_BEARER = re.compile(r"(?P<head>\b(?:Bearer|Basic)\s+)(?P<secret>[A-Za-z0-9._~+/=-]+)", re.IGNORECASE)


def redact(text: object) -> str:
    """``text`` with every password, token and session value replaced by ``***``.

    Parameters
    ----------
    text : anything; it is turned into a string first (None gives ``""``).

    Examples
    --------
    >>> redact("cannot connect to postgresql://u:secret@h/db")
    'cannot connect to postgresql://u:***@h/db'
    >>> redact("postgresql://u@h/db?sslmode=disable&password=secret")
    'postgresql://u@h/db?sslmode=disable&password=***'
    >>> redact("host=h password='s e' dbname=x")
    'host=h password=*** dbname=x'
    """
    if text is None:
        return ""
    out = str(text)
    out = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", out)
    out = _NAMED.sub(lambda m: f"{m['head']}{MASK}", out)
    return _BEARER.sub(lambda m: f"{m['head']}{MASK}", out)
