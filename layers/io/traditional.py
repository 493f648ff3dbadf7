"""Traditional characters read as their simplified forms, for matching headers and constrained values only.

A 12345 export from a system set to traditional characters (or a file from Taipei or Hong Kong) writes
工單狀態 已辦結 and 辦結時間 where the layers declare 工单状态, 已办结 and 办结时间. Headers and values are
compared through :func:`layers.io.columns.normalise_header`, which folds them with the one table here, so no
alias, synonym or choice needs a traditional twin. What is stored and reported stays as the layer declares it
(simplified): the fold only decides which declared spelling a file's text is.

The table holds the characters of this project's vocabulary (its headers, statuses, event types, kinds, yes/no
words and the words of hotline exports), character by character: matching needs no phrase-level conversion
(OpenCC's), and no dependency is pinned for it. A character simplified Chinese also writes for another word
(乾, 著, 餘) is left out; a variant form (衞, 爲, 啓, 裏) folds like the standard one.
"""

from __future__ import annotations

# Each pair: a traditional character, then its simplified form. Add a pair when a declared word gains a
# character with a traditional form; keep this the only such table.
_PAIRS = """
與与 專专 業业 東东 兩两 臨临 為为 爲为 舉举 鄉乡 亂乱 於于 眾众 衆众 倉仓 體体 佔占 來来 內内 關关 農农
劃划 別别 動动 區区 單单 衛卫 衞卫 廁厕 廚厨 縣县 發发 髮发 變变 啟启 啓启 員员 問问 園园 場场 聲声 處处
備备 復复 複复 寬宽 對对 審审 屬属 幹干 廣广 廢废 開开 棄弃 張张 錄录 態态 報报 擬拟 據据 擺摆 攤摊 數数
時时 暫暂 標标 檢检 橫横 潔洁 滿满 點点 無无 營营 狀状 獨独 現现 電电 碼码 礙碍 種种 積积 稱称 築筑 簡简
類类 係系 繫系 級级 緯纬 縱纵 細细 經经 結结 給给 維维 綠绿 編编 網网 聯联 髒脏 臟脏 蠅蝇 記记 設设 訪访
訴诉 話话 詳详 責责 販贩 貼贴 貿贸 費费 轉转 輪轮 過过 運运 遺遗 裡里 裏里 鎮镇 長长 門门 閉闭 間间 項项
題题 號号 儲储 噸吨 務务 辦办 環环 汙污 註注
"""
_FOLD = str.maketrans({pair[0]: pair[1] for pair in _PAIRS.split()})


def simplified(text: str) -> str:
    """``text`` with the traditional characters of the project's vocabulary written simplified (辦結時間 → 办结时间)."""
    return text.translate(_FOLD)
