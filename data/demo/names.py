"""Fictional names for the demo city: places, people, phone numbers, all drawn from the seed."""

from __future__ import annotations

import itertools

import numpy as np

_FIRST = [
    ("青", "Qing"), ("白", "Bai"), ("金", "Jin"), ("桃", "Tao"), ("柳", "Liu"), ("槐", "Huai"),
    ("松", "Song"), ("海", "Hai"), ("东", "Dong"), ("西", "Xi"), ("南", "Nan"), ("北", "Bei"),
    ("凤", "Feng"), ("龙", "Long"), ("福", "Fu"), ("瑞", "Rui"), ("文", "Wen"), ("华", "Hua"),
    ("新", "Xin"), ("兴", "Xing"), ("幸", "Xing"), ("安", "An"), ("宁", "Ning"), ("康", "Kang"),
    ("芝", "Zhi"), ("岚", "Lan"), ("川", "Chuan"), ("溪", "Xi"), ("枫", "Feng"), ("梧", "Wu"),
    ("杏", "Xing"), ("梨", "Li"), ("茂", "Mao"), ("丰", "Feng"), ("盛", "Sheng"), ("泰", "Tai"),
]
_SECOND = [
    ("山", "shan"), ("河", "he"), ("泉", "quan"), ("桥", "qiao"), ("湾", "wan"), ("林", "lin"),
    ("港", "gang"), ("园", "yuan"), ("坡", "po"), ("台", "tai"), ("岭", "ling"), ("塘", "tang"),
    ("庄", "zhuang"), ("阳", "yang"), ("苑", "yuan"), ("滨", "bin"), ("源", "yuan"), ("亭", "ting"),
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅海燕志宏文斌玉兰"
DISTRICTS = [
    ("芝阳区", "Zhiyang District"), ("福岚区", "Fulan District"), ("牟川区", "Mouchuan District"),
    ("蓬溪区", "Pengxi District"), ("龙湾区", "Longwan District"), ("莱枫区", "Laifeng District"),
    ("海泰区", "Haitai District"), ("凤台区", "Fengtai District"),
]


class NameBank:
    """Unique two-character place names, drawn in a seeded order."""

    def __init__(self, rng: np.random.Generator):
        pairs = list(itertools.product(_FIRST, _SECOND))
        order = rng.permutation(len(pairs))
        self._pairs = [pairs[i] for i in order]
        self._next = 0

    def take(self) -> tuple[str, str]:
        """The next (Chinese, pinyin) name; after every pair is used, a round number is appended."""
        (a, a_en), (b, b_en) = self._pairs[self._next % len(self._pairs)]
        round_ = self._next // len(self._pairs)
        self._next += 1
        suffix = "" if round_ == 0 else str(round_ + 1)
        return f"{a}{b}{suffix}", f"{a_en}{b_en}{suffix}"


def person(rng: np.random.Generator) -> str:
    """A made-up full name (surname + one or two given characters)."""
    surname = _SURNAMES[rng.integers(len(_SURNAMES))]
    given = "".join(_GIVEN[i] for i in rng.integers(len(_GIVEN), size=rng.integers(1, 3)))
    return surname + given


def phone(rng: np.random.Generator) -> str:
    """A made-up Yantai landline number."""
    # 0535 is Yantai's area code; 6xxx-xxxx numbers here are made up.
    return f"0535-6{rng.integers(0, 10_000_000):07d}"

