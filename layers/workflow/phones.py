"""What a phone number is, written once for every place that takes one.

A grid manager's phone (assignment, roster) and a resident's contact number (the public report, Open311)
follow one rule: digits with an optional leading +, separated as offices write them — spaces, dashes, dots,
an area code in brackets, ASCII or full-width: ``0535-6123456``, ``(212) 555-0100``, ``212.555.0100``,
``（0535）6612345``; with enough digits to be dialled. The public page checks a number before sending it
with :data:`PATTERN` (the same rule as one regular expression, valid in Python and JavaScript).
"""

from __future__ import annotations

import re
import unicodedata

#: The longest number taken, in characters as written (``+86 (0535) 6123-456 ext 12`` is not a number).
MAX_LENGTH = 32
#: Fewest digits of a number: a local 6123456 has 7, Hong Kong's 8, a mobile 11 ...
MIN_DIGITS = 7
#: ... and one dialled with a trunk 0 carries its area code: 0535-6123456, 02-2597-0001 (10 or more).
MIN_DIGITS_TRUNK = 10

# Digits or a bracketed area code, one at a time (linear matching), separated by spaces, dashes or dots.
_PIECE = r"(?:[0-9]|\([0-9]+\))"
SHAPE = rf"(?=.{{1,{MAX_LENGTH}}}$)\+?{_PIECE}(?:[ .\-]*{_PIECE})*$"
_DIGIT = r"[^0-9]*[0-9]"
#: Enough digits: at least MIN_DIGITS, and at least MIN_DIGITS_TRUNK when the first one is a trunk 0.
DIGITS = rf"(?=(?:{_DIGIT}){{{MIN_DIGITS}}})(?![^0-9]*0(?:{_DIGIT}){{0,{MIN_DIGITS_TRUNK - 2}}}[^0-9]*$)"
#: The whole rule as one pattern over a number as stored (:func:`normal_phone`); the report page uses it.
PATTERN = f"^{DIGITS}{SHAPE}"

_SHAPE, _DIGITS = re.compile(SHAPE), re.compile(DIGITS)


def normal_phone(phone: str) -> str:
    """A phone as stored: full-width digits, dashes and brackets (（０５３５）６６１２３４５, as some sheets
    hold them) as ASCII, without surrounding spaces."""
    return unicodedata.normalize("NFKC", phone).strip()


def phone_problem(phone) -> tuple[str, str] | None:
    """Why ``phone`` is no phone number, in English and in Chinese; None when it is one (:data:`PATTERN`)."""
    written = normal_phone(phone) if isinstance(phone, str) else None
    if written is None or not _SHAPE.match(written):
        return (f"{phone!r} is not a phone number (digits, an optional leading +, spaces, dashes, dots or an "
                f"area code in brackets; up to {MAX_LENGTH} characters)",
                f"{phone!r} 不是电话号码（数字，可以 + 开头，可用空格、短横线、点分隔，区号可加括号；"
                f"最多 {MAX_LENGTH} 个字符）")
    if not _DIGITS.match(written):
        return (f"{phone!r} has too few digits for a phone number (with its 0 area code {MIN_DIGITS_TRUNK} or "
                f"more, else {MIN_DIGITS} or more)",
                f"{phone!r} 位数不足，不是完整的电话号码（带 0 开头区号的至少 {MIN_DIGITS_TRUNK} 位，"
                f"其他至少 {MIN_DIGITS} 位）")
    return None
