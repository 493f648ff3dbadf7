"""Words said in two languages: a note of a report, in English (the text itself) and in Chinese."""

from __future__ import annotations


class Note(str):
    """A note of the import report: the English text itself, and ``zh``, the same in Chinese."""

    zh: str

    def __new__(cls, zh: str, en: str) -> Note:
        note = super().__new__(cls, en)
        note.zh = zh
        return note


def in_lang(text: str, lang: str) -> str:
    """A note or reason in ``lang``: its Chinese where it has one, else the English."""
    return getattr(text, "zh", None) or str(text) if lang == "zh" else str(text)


def say(templates: dict[str, tuple[str, str]], key: str, lang: str, **values) -> str:
    """Message ``key`` of ``templates`` (key → (Chinese, English) format strings) in ``lang``, filled in with ``values``.

    One place per message: the numbers and codes are the same in both languages, only the words around them differ.
    """
    zh, en = templates[key]
    return (zh if lang == "zh" else en).format(**values)


def plural(n: float) -> str:
    """The English plural ending for ``n`` of something: "" for exactly 1 (1 page), "s" otherwise (2 pages, 0.5 points)."""
    return "" if n == 1 else "s"
