"""The categories of /report in plain words, each with a small icon (inline SVG, nothing loaded).

Event type names are the standard's terms (暴露垃圾, 病媒生物 …); a resident
picks what they see ("垃圾桶满了"). The official name stays beside the plain
words, and is what the page sends. A city's own event types without an entry
here show their name and a generic icon.
"""

from __future__ import annotations

import html

#: Plain words per event type: (Chinese, English).
PLAIN = {
    "暴露垃圾": ("垃圾乱堆乱放", "Rubbish left out"),
    "积存垃圾渣土": ("垃圾、渣土长期堆积", "Old heaps of rubbish or rubble"),
    "道路不洁": ("路面脏", "Dirty street"),
    "水域不洁": ("河道、水面脏", "Dirty river or pond"),
    "绿地脏乱": ("绿地里脏乱", "Litter in a green space"),
    "乱倒污水": ("乱倒污水", "Dirty water poured out"),
    "餐厨垃圾遗撒": ("剩饭泔水洒在路上", "Food waste spilled"),
    "垃圾满溢": ("垃圾桶满了", "Bins overflowing"),
    "占道经营": ("摆摊占道", "Stalls blocking the way"),
    "非法小广告": ("乱贴小广告", "Flyers stuck up"),
    "病媒生物": ("老鼠、蚊子、苍蝇多", "Rats, mosquitoes or flies"),
}

# 24×24 line drawings in the text colour: simple shapes, no emoji, no external file.
_SHAPES = {
    "heap": '<path d="M2 20h20L15 8l-3 4-3-3z"/><path d="M7 5l1-2M12 6V3M17 5l-1-2"/>',
    "rubble": '<path d="M2 20h20l-4-7-4 3-3-6-4 5z"/><rect x="15" y="3" width="4" height="4"/>',
    "road": '<path d="M8 3L5 21M16 3l3 18M12 4v3M12 11v3M12 18v2"/>',
    "water": '<path d="M2 9c3-3 6 3 10 0s7 3 10 0M2 15c3-3 6 3 10 0s7 3 10 0"/><path d="M8 20h8"/>',
    "tree": '<path d="M12 21v-6M12 3c-5 0-7 5-4 9h8c3-4 1-9-4-9z"/><path d="M5 21h14"/>',
    "drop": '<path d="M12 3c3 5 6 8 6 11a6 6 0 0 1-12 0c0-3 3-6 6-11z"/>',
    "bowl": '<path d="M3 11h18a9 9 0 0 1-18 0z"/><path d="M9 7c0-2 2-2 2-4M14 7c0-2 2-2 2-4"/>',
    "bin": '<path d="M4 7h16M9 7V4h6v3M6 7l1 14h10l1-14"/><path d="M3 4l3 2M21 4l-3 2"/>',
    "stall": '<path d="M3 9l9-5 9 5z"/><path d="M6 9v11M18 9v11M4 20h16M6 14h12"/>',
    "flyer": '<rect x="6" y="3" width="12" height="17"/><path d="M9 8h6M9 12h6M9 16h3"/>',
    "bug": '<ellipse cx="12" cy="13" rx="4" ry="6"/><path d="M8 10L4 8M16 10l4-2M8 15l-4 2M16 15l4 2M10 7L8 4M14 7l2-3"/>',
    "other": '<circle cx="12" cy="12" r="9"/><path d="M12 7v6M12 16v1"/>',
}
ICONS = {"暴露垃圾": "heap", "积存垃圾渣土": "rubble", "道路不洁": "road", "水域不洁": "water", "绿地脏乱": "tree",
         "乱倒污水": "drop", "餐厨垃圾遗撒": "bowl", "垃圾满溢": "bin", "占道经营": "stall", "非法小广告": "flyer",
         "病媒生物": "bug"}


def icon(name: str) -> str:
    """The inline SVG of an event type (a generic mark for types without their own)."""
    shape = _SHAPES[ICONS.get(name, "other")]
    return ('<svg class="rp-icon" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" fill="none" '
            f'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">{shape}</svg>')


def choices(categories: list[tuple[str, str]], lang: str) -> str:
    """The radio buttons of the categories: icon, plain words, and the official name (the value sent)."""
    esc = html.escape
    out = []
    for name, label in categories:
        plain = PLAIN.get(name, (name, label))[1 if lang == "en" else 0]
        official = label if plain != label else ""
        out.append(f'<label class="rp-cat"><input type="radio" name="category" value="{esc(name)}">{icon(name)}'
                   f'<span class="rp-plain">{esc(plain)}</span>'
                   f'{f"<small>{esc(official)}</small>" if official else ""}</label>')
    return "".join(out)
