"""The one base URL of every absolute link the app writes (OGC links, print QR codes).

:func:`base_url` is ``HYGIENE_MAP_PUBLIC_URL`` when set. Otherwise it is the
request's own base URL, but a request's headers are the client's to choose,
so they are not believed blindly: the ``Host`` counts only when its host
name is allowed (:class:`data.settings.LinkSettings`: localhost, 127.0.0.1,
::1, the address the server listens on, and ``HYGIENE_MAP_ALLOWED_HOSTS``),
else the server's own address is used; ``X-Forwarded-Host/-Proto/-Prefix``
and ``Forwarded`` count only when the request comes straight from one of
``HYGIENE_MAP_TRUSTED_PROXIES`` (and a forwarded host must be allowed too).
"""

from __future__ import annotations

import ipaddress
import re

from fastapi import Request

from data.settings import LinkSettings

# host, or [IPv6], with an optional port: nothing else may reach a link.
_HOST = re.compile(r"^(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(?P<port>\d{1,5}))?$")
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")
_DEFAULT_PORT = {"http": 80, "https": 443}


def base_url(request: Request, settings: LinkSettings | None = None) -> str:
    """The base URL (scheme, host, path prefix; no trailing slash) links of this request start with.

    Parameters
    ----------
    request : Request
        The request being answered.
    settings : LinkSettings, optional
        Read from the environment when not given.

    Returns
    -------
    str
        ``HYGIENE_MAP_PUBLIC_URL``, or ``scheme://host[:port][prefix]`` of the request as validated above.
    """
    settings = settings or LinkSettings.from_env()
    if settings.public_url:
        return settings.public_url
    scheme, host, prefix = request.url.scheme, request.headers.get("host"), request.scope.get("root_path", "")
    if _from_trusted_proxy(request, settings):
        forwarded = _forwarded(request)
        scheme = forwarded.get("proto", scheme)
        host = forwarded.get("host", host)
        prefix = forwarded.get("prefix", prefix)
    allowed = settings.host_list() | {str(_server(request)[0]).lower()}
    if not _host_allowed(host, allowed):
        host = _server_address(request, scheme)
    if scheme not in _DEFAULT_PORT:
        scheme = request.url.scheme
    if not _PREFIX.match(prefix or ""):
        prefix = ""
    return f"{scheme}://{host}{(prefix or '').rstrip('/')}"


def _server(request: Request) -> tuple[str, int | None]:
    server = request.scope.get("server") or ("127.0.0.1", 8000)
    return server[0], server[1]


def _server_address(request: Request, scheme: str) -> str:
    """``host[:port]`` of the socket the server answers on (the port left out when it is the scheme's)."""
    host, port = _server(request)
    if ":" in host:
        host = f"[{host}]"
    return host if port in (None, _DEFAULT_PORT.get(scheme)) else f"{host}:{port}"


def _host_allowed(host: str | None, allowed: frozenset[str] | set[str]) -> bool:
    match = _HOST.match(host or "")
    return bool(match) and match.group("name").lower().strip("[]") in allowed


def _from_trusted_proxy(request: Request, settings: LinkSettings) -> bool:
    proxies = settings.proxy_list()
    client = request.client.host if request.client else None
    if not proxies or not client:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(p, strict=False) for p in proxies)


def _forwarded(request: Request) -> dict[str, str]:
    """host, proto and prefix a proxy passed on: ``Forwarded`` (RFC 7239, first hop), else ``X-Forwarded-*``."""
    out: dict[str, str] = {}
    first = request.headers.get("forwarded", "").split(",")[0]
    for pair in first.split(";"):
        name, _, value = pair.strip().partition("=")
        if name.lower() in ("host", "proto") and value:
            out[name.lower()] = value.strip('"')
    for name in ("host", "proto", "prefix"):
        value = request.headers.get(f"x-forwarded-{name}")
        if value and name not in out:
            out[name] = value.split(",")[0].strip()
    if "proto" in out:
        out["proto"] = out["proto"].lower()
    return out


def client_address(request: Request, settings: LinkSettings | None = None) -> str:
    """The caller's IP address: the socket's peer, or, from a trusted proxy, the address it forwarded.

    Per-client limits count by this; behind a proxy every request comes from
    the proxy's socket, so the hop the proxy added last (``Forwarded: for=``,
    RFC 7239, else the last ``X-Forwarded-For`` entry; earlier entries are the client's to forge) is believed from trusted proxies only.
    """
    settings = settings or LinkSettings.from_env()
    peer = request.client.host if request.client else "-"
    if not _from_trusted_proxy(request, settings):
        return peer
    last = request.headers.get("forwarded", "").split(",")[-1]  # the hop our proxy added
    for pair in last.split(";"):
        name, _, value = pair.strip().partition("=")
        if name.lower() == "for" and value:
            return value.strip('"').strip("[]")
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    return hops[-1] if hops else peer
