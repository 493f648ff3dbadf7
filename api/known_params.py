"""Unknown query parameters are refused on the API, the tiles and the file routes, naming them.

A misspelt parameter silently ignored gives a wrong answer that looks right:
``/api/complaints?stauts=open`` would list every complaint, a print with
``?lnag=en`` would be in Chinese. So every route :func:`strict` names answers
a parameter it does not declare with :class:`~data.errors.InvalidParameter`
(422), naming it and the parameters the route takes.

What a route takes is read from FastAPI's own description of it
(``route.dependant``), its sub-dependencies included: a parameter declared
inside a ``Depends(...)`` helper of :mod:`api.deps` counts, and so do those of
routes whose signature is built at start-up (:mod:`api.routes.analysis`).

Pages stay lenient (a link shared in a chat app carries ``utm_…`` or
``from=``), and /ogc and /open311 keep their own standards' rules: they are
not :func:`strict`. :data:`KNOWN_ONLY` is registered once, as a
dependency of the whole app (:func:`api.app.create_app`).
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from data.errors import InvalidParameter

#: Paths whose routes refuse unknown parameters: the JSON API, vector tiles, prints and bulletin files ...
STRICT = ("/api/", "/tiles/", "/print/", "/reports/bulletin.")
#: ... and every file a page links to (a plan's PDF, /plans/{id}.pdf, beside its page /plans/{id}).
FILES = (".pdf", ".xlsx", ".csv")
#: Standards that say themselves what an extra parameter means (OGC API: ``f``, property filters; Open311).
OWN_RULES = ("/ogc", "/open311")


def strict(path: str) -> bool:
    """Whether a request to ``path`` has unknown query parameters refused (else ignored, as pages do)."""
    return (path.startswith(STRICT) or path.endswith(FILES)) and not path.startswith(OWN_RULES)


#: Taken everywhere: the language, and ``_`` (a browser's or test's cache-busting counter).
ALWAYS = ("lang", "_")


def declared(dependant: Dependant) -> list[str]:
    """The query parameter names ``dependant`` reads, its sub-dependencies' included, in declaration order."""
    names = [field.alias for field in dependant.query_params]
    for sub in dependant.dependencies:
        names += declared(sub)
    return list(dict.fromkeys(names))


def accepted(route: APIRoute) -> list[str]:
    """What ``route`` takes: its declared query parameters, then :data:`ALWAYS`."""
    return list(dict.fromkeys([*declared(route.dependant), *ALWAYS]))


def unknown_parameters(path: str, unknown: list[str], taken: list[str]) -> InvalidParameter:
    """The error naming the ``unknown`` parameters of ``path`` and the ``taken`` ones, in English and Chinese."""
    quoted = ", ".join(repr(name) for name in unknown)
    plural = "s" if len(unknown) > 1 else ""
    return InvalidParameter(", ".join(unknown), f"{path} takes no parameter{plural} {quoted}; it takes "
                                                f"{', '.join(taken)}",
                            f"{path} 没有参数 {quoted}；它的参数是 {'、'.join(taken)}")


async def known_only(request: Request) -> None:
    """Refuse a query parameter the matched route does not take, on the paths :func:`strict` names.

    The route is the one the router matched (``scope["route"]``); what it takes is read from its
    ``dependant`` on each request (a walk of a few fields, no cache to keep right). FastAPI 0.165 puts
    there the route as its router declared it, without the dependencies given to ``include_router``
    (api.auth's READS, this check): those take no query parameter; one that did would be refused here,
    and tests/test_unknown_params.py's walk of every route would say so.
    """
    path = request.url.path
    route = request.scope.get("route")
    if not request.url.query or not strict(path) or not isinstance(route, APIRoute):
        return  # most requests (a plain tile) have no query; pages, /ogc and /open311 keep their own rules
    taken = accepted(route)
    unknown = [name for name in request.query_params if name not in taken]
    if unknown:
        raise unknown_parameters(path, unknown, taken)


#: What create_app puts on the app, once: every route of every router runs :func:`known_only` first.
KNOWN_ONLY = Depends(known_only)
