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
