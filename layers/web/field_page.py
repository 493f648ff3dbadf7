"""The field page (/field, issue 15): an inspector records findings on a phone, online or not.

Phone width, Chinese first, for a logged-in inspector. The server writes the
frame, the words, the checklist and the rounds into the page; the page's
script (static/app/field.js) takes the place (GPS, or a tap on a map of the
city's own roads and names, static/app/context.js), offers the checklist
items of the place type nearby first (``GET /api/inspections/places``), keeps
every finding and its photos (resized on the phone) in IndexedDB with a
``client_id``, and sends them when the network is there. A service worker
(:func:`service_worker`) keeps the page and its files for a start without a
network. Nothing is loaded from another host.
"""

from __future__ import annotations

import hashlib
import html
from datetime import datetime
from functools import lru_cache

from data.said import grid_name
from data.vocab import city_tz
from layers.web.assets import APP_STATIC, STATIC_PREFIX
from layers.web.tracking_page import script_json
from layers.workflow.photos import PHONE_PX

_V = STATIC_PREFIX + "/vendor/"
_APP = STATIC_PREFIX + "/app/"
#: Where the service worker is served: at the root, so that it may control /field (scope "/field").
SW_PATH = "/field-sw.js"
#: The files the page loads; the service worker keeps them (and the page) in a cache named after their contents.
PAGE_FILES = (_V + "leaflet/dist/leaflet.css", _APP + "map.css", _APP + "public.css", _APP + "field.css",
              _V + "leaflet/dist/leaflet.js", _V + "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
              _APP + "context.js", _APP + "photo-shrink.js", _APP + "field.js", _APP + "field-todo.js")
#: How often (ms) the queue tries again while findings wait, besides the browser's "online" event.
RETRY_MS = 20000

WORDS = {
    "zh": {"title": "现场检查", "round": "检查轮次", "no_round": "没有进行中的检查轮次", "unannounced": "暗访", "place": "位置",
           "gps": "用手机定位", "tap": "或在地图上点选位置", "placed": "已选位置", "grid": "网格",
           "no_gps": "无法定位（需要 HTTPS 和定位权限），请在地图上点选", "item": "问题",
           "nearby": "附近 {m} 米内：", "others": "其他问题", "note": "说明（选填）",
           "note_hint": "具体位置、情况", "photos": "照片", "camera": "拍照", "photo_n": "{n} 张照片",
           "save": "保存并发送", "need_round": "请选择检查轮次", "need_place": "请先选位置", "need_item": "请选择问题",
           "saved": "已保存，将自动发送", "queue": "本机记录", "empty": "暂无记录", "pending": "待发送",
           "sent": "已发送", "failed": "发送失败", "photos_pending": "照片待发送", "due": "整改期限",
           "offline": "离线：记录保存在手机上，联网后自动发送", "online": "在线", "send_now": "立即发送",
           "login_again": "登录已失效，请重新登录后发送", "remove": "删除", "other": "English",
           "other_user": "其他用户的记录（{u}），需该用户登录后发送", "user": "检查人", "resizing": "正在处理照片…",
           "not_inspector": "只有检查员和管理员能记录问题；本账号的记录会被服务器拒绝",
           "todo_rectify": "本街道待整改问题", "todo_recheck": "待复查问题", "todo_empty": "暂无", "account": "账号", "before": "整改前照片", "rectify_note": "整改说明（选填）",
           "after": "整改后照片", "rectify": "已整改", "pass": "复查通过", "fail": "复查未通过",
           "fail_note": "未通过的原因（复查未通过时必填）", "need_after": "请先拍整改后照片",
           "need_note": "请写明未通过的原因", "done": "已提交", "overdue": "已超期", "grid_then": "印制时的网格",
           "redrawn": "此检查表印制后，本街道网格已于 {until} 重新划分：图上红色虚线为印制时的网格 {code}，"
                      "问题记入所选位置现在所在的网格。",
           "no_unit": "此处网格 {grid} 尚无责任单位：问题照常记录（记为无责任单位），请告知街道办尽快指定。",
           "no_grid": "此处不在任何网格内，尚无责任单位：问题照常记录，请告知街道办。",
           "no_unit_sent": "无责任单位（请告知街道办）", "said_failed": "复查未通过", "said_failed_before": "上次复查未通过",
           "said_rectified": "整改说明", "said_rectified_before": "上次整改说明", "no_note": "（未写说明）"},
    "en": {"title": "Field inspection", "round": "Round", "no_round": "No round is running", "unannounced": "unannounced",
           "place": "Place",
           "gps": "Use my location", "tap": "or tap the map", "placed": "Place chosen", "grid": "Grid",
           "no_gps": "No location (needs HTTPS and permission): tap the map instead", "item": "Problem",
           "nearby": "Within {m} m: ", "others": "Other problems", "note": "Note (optional)",
           "note_hint": "Exact spot, what you saw", "photos": "Photos", "camera": "Take a photo", "photo_n": "{n} photos",
           "save": "Save and send", "need_round": "Choose a round", "need_place": "Choose the place first",
           "need_item": "Choose a problem", "saved": "Saved; it is sent automatically", "queue": "On this phone",
           "empty": "Nothing recorded yet", "pending": "waiting to send", "sent": "sent", "failed": "not accepted",
           "photos_pending": "photos waiting", "due": "due", "offline": "Offline: findings stay on the phone and are "
           "sent when the network returns", "online": "online", "send_now": "Send now",
           "login_again": "The login has expired: log in again to send", "remove": "Remove", "other": "中文",
           "other_user": "Recorded by another user ({u}): sent when they log in", "user": "Inspector",
           "resizing": "Preparing the photo…",
           "not_inspector": "Only inspectors and admins record findings: the server refuses this account's",
           "todo_rectify": "Findings of your street to rectify", "todo_recheck": "Findings to re-check",
           "todo_empty": "None", "account": "Signed in as", "before": "Photo before", "rectify_note": "What was done (optional)", "after": "Photo after rectification", "rectify": "Rectified", "pass": "Re-check passed",
           "fail": "Re-check failed", "fail_note": "What is still wrong (needed when it fails)",
           "need_after": "Take the photo after rectification first", "need_note": "Say what is still wrong",
           "done": "Done", "overdue": "overdue", "grid_then": "Grid as printed",
           "redrawn": "The street's grids were redrawn on {until}, after this sheet was printed: grid {code} as "
                      "printed is outlined in dashed red; a finding goes to the grid its place lies in now.",
           "no_unit": "Grid {grid} here has no responsible unit yet: the finding is still recorded (with no unit); "
                      "tell the street office so that it names one.",
           "no_grid": "No grid covers this place, so it has no responsible unit yet: the finding is still recorded; "
                      "tell the street office.",
           "no_unit_sent": "no responsible unit (tell the street office)", "said_failed": "Re-check failed",
           "said_failed_before": "Earlier re-check failed", "said_rectified": "Rectification note",
           "said_rectified_before": "Earlier rectification note", "no_note": "(no note)"},
}


def field_html(lang: str, config: dict) -> str:
    """The field page in ``lang``; ``config`` (user, rounds, checklist, place types, city view, grid) goes to
    the script as JSON."""
    t, esc = WORDS[lang], html.escape
    other = "zh" if lang == "en" else "en"
    grid = config.get("grid")
    printed = f"&amp;printed={esc(config['printed'])}" if config.get("printed") else ""
    here = f"?grid={esc(grid['code'])}{printed}&amp;lang={other}" if grid else f"?lang={other}"
    redrawn = (f'<p id="fd-redrawn" class="tr-error">{esc(t["redrawn"].format(until=_day(grid["redrawn"]), code=grid["code"]))}'
               f'</p>\n') if grid and grid.get("redrawn") else ""
    config = {**config, "lang": lang, "words": t, "retry_ms": RETRY_MS, "sw": SW_PATH, "photo_px": PHONE_PX}
    if grid:  # the prefilled grid as the page says it: no 「N号网格」 on an English page
        config["grid"] = {**grid, "name": grid_name(grid.get("name"), lang)}
    # The to-do list (static/app/field-todo.js): a street office's comes first, an inspector's after its own records.
    action = (config.get("todo") or {}).get("action")
    rectifier = action == "rectify"
    todo = (f'<h2>{esc(t["todo_" + action])}</h2>\n<ul id="fd-todo" class="fd-queue"></ul>\n'
            f'<p id="fd-todo-msg" class="tr-error" role="alert"></p>\n') if action else ""
    links = "".join(f'<link rel="stylesheet" href="{f}">' for f in PAGE_FILES if f.endswith(".css"))
    scripts = "".join(f'<script src="{f}"></script>' for f in PAGE_FILES if f.endswith(".js"))
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{esc(t["title"])}</title>
{links}
</head><body class="tr">
<header><h1>{esc(t["title"])}</h1><a class="tr-lang" href="/field{here}">{esc(t["other"])}</a></header>
<p class="tr-note">{esc(t["user"] if config["user"]["role"] in ("inspector", "admin") else t["account"])}: <b id="fd-user">{esc(config["user"]["name"])}</b>
<span id="fd-net"></span></p>
{todo if rectifier else ""}<form id="fd-form" novalidate>
<h2><label for="fd-round">{esc(t["round"])}</label></h2>
<select id="fd-round" name="round"></select>
<h2>{esc(t["place"])}</h2>
<button type="button" id="fd-gps" class="fd-secondary">{esc(t["gps"])}</button>
<p id="fd-place" class="tr-note">{esc(t["tap"])}</p>
<p id="fd-unit" class="fd-warn" role="status" hidden></p>
{redrawn}<div id="fd-map"></div>
<h2>{esc(t["item"])}</h2>
<p id="fd-near" class="tr-note"></p>
<div id="fd-items"></div>
<h2><label for="fd-note">{esc(t["note"])}</label></h2>
<textarea id="fd-note" name="note" maxlength="2000" rows="2" placeholder="{esc(t["note_hint"])}"></textarea>
<h2>{esc(t["photos"])}</h2>
<label class="fd-camera">{esc(t["camera"])}
<input id="fd-photo" type="file" accept="image/*" capture="environment" multiple></label>
<div id="fd-thumbs"></div>
<p id="fd-msg" class="tr-error" role="alert"></p><p id="fd-saved" class="tr-note" role="status"></p>
<button type="submit" id="fd-save">{esc(t["save"])}</button>
</form>
<h2>{esc(t["queue"])} <button type="button" id="fd-send" class="fd-small">{esc(t["send_now"])}</button></h2>
<ul id="fd-queue" class="fd-queue"></ul>
{"" if rectifier else todo}<script id="fd-config" type="application/json">{script_json(config)}</script>
{scripts}
</body></html>"""


@lru_cache(maxsize=1)
def _files_digest() -> str:
    """A digest of the project's page files the worker keeps: a new version of any of them is a new cache."""
    digest = hashlib.sha256()
    for name in ("field-sw.js", *(f.rsplit("/", 1)[1] for f in PAGE_FILES if f.startswith(_APP))):
        digest.update((APP_STATIC / name).read_bytes())
    return digest.hexdigest()[:12]


def service_worker() -> str:
    """The service worker's script: static/app/field-sw.js with its cache version and file list filled in."""
    source = (APP_STATIC / "field-sw.js").read_text(encoding="utf-8")
    return (source.replace("__VERSION__", _files_digest())
            .replace("__FILES__", script_json(list(PAGE_FILES))))


def _day(instant: str) -> str:
    """The city's day of an ISO instant (when the grids were redrawn)."""
    return f"{datetime.fromisoformat(instant).astimezone(city_tz()):%Y-%m-%d}"
