"""FastAPI's request-validation errors (pydantic's) said in English and in Chinese, one line each.

Pydantic words its errors in English only. Its error *types* are stable
(``missing``, ``int_parsing``, ``greater_than_equal`` …) and carry their bounds
in ``ctx``, so the Chinese is built from the type, not from the English. A
validator of this project raising :class:`Refusal` gives its own Chinese; a
type this table does not know leaves the whole answer without Chinese rather
than half of it in English.
"""

from __future__ import annotations

import re

from fastapi.exceptions import RequestValidationError


class Refusal(ValueError):
    """A field validator's refusal in English, with its Chinese as ``zh`` (pydantic keeps the exception in ctx)."""

    def __init__(self, message: str, zh: str):
        super().__init__(message)
        self.zh = zh


#: Pydantic's error types in Chinese; ``{name}`` from the error's ctx.
_ZH = {
    "missing": "必填",
    "extra_forbidden": "不是可用的字段（拼写有误？）",
    "string_type": "应为文本",
    "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
    "float_parsing": "应为数字", "float_type": "应为数字", "finite_number": "应为有限的数",
    "bool_parsing": "应为 true 或 false", "bool_type": "应为 true 或 false",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}", "less_than_equal": "应不大于 {le}",
    "string_too_short": "至少 {min_length} 个字符", "string_too_long": "至多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项", "too_long": "至多 {max_length} 项",
    "list_type": "应为列表", "dict_type": "应为 JSON 对象", "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象", "datetime_parsing": "应为 ISO 8601 日期时间",
    "datetime_from_date_parsing": "应为 ISO 8601 日期时间", "datetime_type": "应为 ISO 8601 日期时间",
    "date_parsing": "应为 ISO 8601 日期", "date_from_datetime_parsing": "应为 ISO 8601 日期", "date_type": "应为 ISO 8601 日期",
    "uuid_parsing": "应为 UUID", "uuid_type": "应为 UUID",
}
# A pattern that is only a choice, ``^(A4|A3)$``, is said as the choice.
_CHOICE = re.compile(r"\^\(([\w.|-]+)\)\$")


def validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    """``where: reason`` of every error, joined by ``; ``: in English, and in Chinese (None where one is unknown)."""
    english, chinese = [], []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body", "header")]
        # A body that is no JSON at all is located by its character offset: say "body", not a number.
        where = "body" if err.get("type") == "json_invalid" else ".".join(loc) or "request"
        english.append(f"{where}: {_said(err)}")
        zh = _said_zh(err)
        chinese.append(None if zh is None else f"{where}：{zh}")
    if not english:
        return "invalid request", "请求无效"
    return "; ".join(english), None if None in chinese else "；".join(chinese)


def _said(err: dict) -> str:
    """Pydantic's message, but a text too long in characters (an optional text's limit reads "items" in
    pydantic's words), a choice said as one, and a validator's refusal without pydantic's "Value error, "."""
    ctx = err.get("ctx") or {}
    if err.get("type") == "too_long" and isinstance(err.get("input"), str):
        return f"at most {ctx.get('max_length')} characters, not {ctx.get('actual_length')}"
    if err.get("type") == "json_invalid":
        return f"is not valid JSON ({ctx.get('error', 'cannot be read')} at character {err['loc'][-1]})"
    if err.get("type") == "value_error" and ctx.get("error") is not None:  # a validator's own words, unprefixed
        return str(ctx["error"])
    if err.get("type") in ("literal_error", "enum"):
        return f"must be one of {', '.join(_listed(ctx))}, not {err.get('input')!r}"
    if err.get("type") == "string_pattern_mismatch" and (choices := _choices(err)):
        return f"must be one of {', '.join(choices)}, not {err.get('input')!r}"
    return err.get("msg", "invalid")


def _choices(err: dict) -> list[str] | None:
    """The values a pattern of the ``^(a|b)$`` kind allows, or None for any other pattern."""
    choice = _CHOICE.fullmatch(str((err.get("ctx") or {}).get("pattern", "")))
    return choice.group(1).split("|") if choice else None


def _listed(ctx: dict) -> list[str]:
    """The values of pydantic's ``expected`` ("'pdf' or 'xlsx'", "'a', 'b' or 'c'"), as a pattern's choices are said."""
    return [v.strip("'") for v in re.split(r",? or |, ", str(ctx.get("expected", "")))]


def _said_zh(err: dict) -> str | None:
    """The error in Chinese, or None when its type is not one :data:`_ZH` knows."""
    kind, ctx = err.get("type"), err.get("ctx") or {}
    if kind == "too_long" and isinstance(err.get("input"), str):
        return f"至多 {ctx.get('max_length')} 个字符，而不是 {ctx.get('actual_length')} 个"
    if kind == "json_invalid":
        return f"不是有效的 JSON（第 {err['loc'][-1]} 个字符处：{ctx.get('error', '无法读取')}）"
    if kind == "value_error":
        return getattr(ctx.get("error"), "zh", None)
    if kind in ("literal_error", "enum"):
        return f"应为 {'、'.join(_listed(ctx))} 之一，不能是 {err.get('input')!r}"
    if kind == "string_pattern_mismatch":
        choices = _choices(err)
        return f"应为 {'、'.join(choices)} 之一，不能是 {err.get('input')!r}" if choices else \
            f"格式不符（应匹配 {ctx.get('pattern')}）"
    if kind not in _ZH:
        return None
    try:
        return _ZH[kind].format(**ctx)
    except (KeyError, IndexError):
        return None
