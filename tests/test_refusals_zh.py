"""Every refusal the project raises says it in Chinese too (README, "Hostile input"): a new ``raise NotFound("…")``
with English words only would show English to a Chinese office on the command line and the staff pages. Read from
the code itself: each ``raise`` of a :class:`data.errors.HygieneMapError` class passes its Chinese (the ``zh``
argument, by position or keyword, or ``*args`` built by a helper that returns both)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from data import errors

REPO = Path(__file__).resolve().parent.parent
#: The classes and how many positional arguments come before their Chinese (from their own signatures).
BEFORE_ZH = {name: list(inspect.signature(klass.__init__).parameters).index("zh") - 1
             for name, klass in vars(errors).items()
             if isinstance(klass, type) and issubclass(klass, errors.HygieneMapError)
             and "zh" in inspect.signature(klass.__init__).parameters}


def _without_chinese(path: Path) -> list[str]:
    """``file:line Class`` of each raise in ``path`` that gives its class no Chinese."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        call = node.exc if isinstance(node, ast.Raise) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in BEFORE_ZH):
            continue
        keywords = {k.arg for k in call.keywords}
        starred = any(isinstance(a, ast.Starred) for a in call.args)
        if "zh" not in keywords and None not in keywords and not starred and len(call.args) <= BEFORE_ZH[call.func.id]:
            found.append(f"{path.relative_to(REPO)}:{node.lineno} {call.func.id}")
    return found


def test_every_refusal_raised_has_its_chinese():
    assert {"NotFound", "InvalidParameter", "InvalidInput", "TooBusy"} <= set(BEFORE_ZH)
    sources = [p for folder in ("api", "data", "geo", "layers") for p in sorted((REPO / folder).rglob("*.py"))]
    assert len(sources) > 100
    missing = [where for path in sources for where in _without_chinese(path)]
    assert missing == [], "refusals with English words only:\n" + "\n".join(missing)
