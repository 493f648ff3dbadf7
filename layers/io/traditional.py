"""Traditional characters read as their simplified forms, for matching headers and constrained values only.

A 12345 export from a system set to traditional characters (or a file from Taipei or Hong Kong) writes
工單狀態 已辦結 and 辦結時間 where the layers declare 工单状态, 已办结 and 办结时间. Headers and values are
compared through :func:`layers.io.columns.normalise_header`, which folds them here, so no alias, synonym or
choice needs a traditional twin. What is stored and reported stays as the layer declares it (simplified): the
fold only decides which declared spelling a file's text is.

OpenCC's ``hk2s`` conversion does the folding: every traditional character, and Hong Kong's variant forms as
well (衞生 is 卫生, which plain ``t2s`` leaves as it is), so a category a city wrote in its own words folds too.
"""

from __future__ import annotations

from functools import lru_cache

import opencc

_CONVERTER = opencc.OpenCC("hk2s")


@lru_cache(maxsize=65536)
def simplified(text: str) -> str:
    """``text`` written in simplified characters (辦結時間 → 办结时间, 衞生 → 卫生)."""
    return _CONVERTER.convert(text)
