"""The bulletin's line of complaints in no street: a city whose street outlines cover only part of it (streets
imported district by district) has complaints routed to a district only (``street_code`` NULL). They are shown as
one line after the ranked streets, never ranked, so that the street table adds up to the city's totals, and the
summary says how many they are and in which districts the street outlines are missing."""

from __future__ import annotations

from layers.reports.bulletin import Figures

#: The street table's line of the complaints in no street (its ``code`` is None).
OUTSIDE = {"zh": "未划入街道", "en": "Not in any street"}
#: The name of the complaints' "district" when they lie in no district either.
NO_DISTRICT = {"zh": "未划入区县", "en": "no district"}


def outside_row(figures: Figures | None, lang: str) -> dict | None:
    """The street table's line of the complaints in no street (received, due, closed, rates, open, overdue as a
    street's; no inspection figures: a round's findings are always in a street), or None when there is none."""
    if figures is None:
        return None
    return {"code": None, "name": OUTSIDE[lang], **figures.as_dict(), "findings": None, "deductions": None,
            "score": None, "rank": None, "rank_change": None}


def outside_section(row: dict | None, districts: dict[str, Figures], known: dict, lang: str) -> dict | None:
    """``outside_streets`` of the bulletin's JSON: the line's received and open at the end, and the same per district
    (``districts``: :func:`layers.reports.bulletin.period_figures`' ``"districts"``; ``known``: district code → (zh,
    en) names), most first; None when every complaint lies in a street."""
    if row is None:
        return None
    i = 1 if lang == "en" else 0
    rows = [{"code": code or None, "name": known[code][i] if code in known else (code or NO_DISTRICT[lang]),
             "received": f.received, "open_at_end": f.open_at_end} for code, f in districts.items()]
    rows.sort(key=lambda r: (-r["received"], -r["open_at_end"], r["code"] or "~"))
    return {"received": row["received"], "open_at_end": row["open_at_end"], "districts": rows}


def renamed(section: dict | None, known: dict, lang: str) -> dict | None:
    """``section`` with its districts named in ``lang`` (the summary in each language names them in its own)."""
    if section is None:
        return None
    i = 1 if lang == "en" else 0
    return {**section, "districts": [
        {**r, "name": known[r["code"]][i] if r["code"] in known else (r["code"] or NO_DISTRICT[lang])}
        for r in section["districts"]]}


def outside_text(section: dict | None, noun: str, lang: str, some_streets: bool = True) -> str:
    """The summary's sentence on the complaints in no street: how many of those received (else, of those open at the
    end), by district, that street outlines are missing for part of the city (when ``some_streets``: a city with no
    street at all says so in a sentence of its own), and where the line is; empty when there is none."""
    if section is None:
        return ""
    figure = "received" if section["received"] else "open_at_end"
    where = [(r["name"], r[figure]) for r in section["districts"] if r[figure]]
    if lang == "en":
        whose = f"Of the complaints received {noun}" if figure == "received" else "Of those open at the end"
        by = " (" + ", ".join(f"{name} {n}" for name, n in where) + ")" if where else ""
        missing = ": street outlines are missing for part of the city" if some_streets else ""
        return (f" {whose}, {section[figure]} lie in no street{by}{missing}. They are listed after the ranked streets as \"{OUTSIDE['en']}\", not ranked.")
    whose = f"{noun}受理的投诉中" if figure == "received" else "期末未结案的投诉中"
    by = "（" + "、".join(f"{name}{n}件" for name, n in where) + "）" if where else ""
    missing = "，本市尚有部分地区未导入街道界线" if some_streets else ""
    return (f"{whose}有{section[figure]}件不在任何街道范围内{by}{missing}；这些投诉列于街道排名之后的“{OUTSIDE['zh']}”一行，不参加排名。")
