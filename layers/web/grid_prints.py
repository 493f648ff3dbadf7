"""The street office's print links on its grid page (/map/grids?street=CODE): a grid's sheet from its popup,
the street's atlas and inspection route from the panel (api/routes/prints.py).

The atlas takes a minute or two: a signed-in user's click starts a print job (POST …/atlas/jobs), the panel
polls it ("正在生成第 37/96 页" and a progress bar) and then offers the file. Without a sign-in (or without
JavaScript) the link is the plain GET atlas.pdf, which answers when the whole atlas is drawn.
"""

from __future__ import annotations

import html
import json

from data.settings import PrintSettings
from layers.workflow.access import User

WORDS = {
    "zh": {"print_grid": "打印网格图", "print_atlas": "打印街道图册", "print_route": "打印巡查路线",
           "paper": "纸张", "top": "前", "grids_unit": "个网格", "atlas_file": "下载图册 PDF",
           "atlas_start": "正在提交打印任务…", "atlas_error": "打印失败"},
    "en": {"print_grid": "Print grid sheet", "print_atlas": "Print street atlas", "print_route": "Print inspection route",
           "paper": "Paper", "top": "top", "grids_unit": "grids", "atlas_file": "Download the atlas PDF",
           "atlas_start": "starting the print job…", "atlas_error": "Printing failed"},
}

_CSS = """<style>
#print-box{margin:4px 0;padding:4px 0;border-top:1px solid #ddd;line-height:2}
#print-box a,#print-box select,#print-box input{font:inherit}#print-box a{margin-right:8px;white-space:nowrap}
#route-top{width:3.5em}#atlas-progress{display:none;width:100%;height:10px}#atlas-status{display:block}
#atlas-status.failed{color:#b00;font-weight:bold}
/* a space after each brace: the page goes through Jinja, where a brace and a hash open a comment */
@media (max-width:700px){ #unit-panel.folded .print-more{display:none} #unit-panel.folded #print-box{line-height:1.6} }
</style>"""

# A signed-in user's click on the atlas link starts a job and polls it every second; the paper select is read
# when a link is followed (the grid popups read it too, through hygienePrintQuery).
_SCRIPT = """<script>(function () {
  var box = document.getElementById('print-box'), cfg = JSON.parse(box.getAttribute('data-print'));
  var paper = document.getElementById('print-paper'), top = document.getElementById('route-top');
  var atlas = document.getElementById('print-atlas'), route = document.getElementById('print-route');
  var bar = document.getElementById('atlas-progress'), status = document.getElementById('atlas-status');
  var file = document.getElementById('atlas-file');
  function query(extra) {
    var q = new URLSearchParams(extra || {});
    q.set('paper', paper.value);
    if (cfg.lang === 'en') q.set('lang', 'en');
    return '?' + q.toString();
  }
  window.hygienePrintQuery = function () { return query(); };
  function links() {
    atlas.href = cfg.atlas + query();
    route.href = cfg.route + query({top: top.value || '10'});
  }
  paper.addEventListener('change', links);
  top.addEventListener('change', links);
  links();
  function say(text, failed) {
    status.textContent = text;
    status.className = failed ? 'failed' : '';
    box.setAttribute('data-atlas-state', failed ? 'failed' : box.getAttribute('data-atlas-state'));
  }
  function show(job) {
    box.setAttribute('data-atlas-state', job.state);
    bar.style.display = job.state === 'running' || job.state === 'queued' ? 'block' : 'none';
    bar.max = Math.max(job.total, 1);
    bar.value = job.stage === 'drawing' ? job.done : 0;
    say(job.message, job.state === 'failed');
    if (job.state === 'done') {
      file.href = job.pdf;
      file.style.display = 'inline';
    } else if (job.state !== 'failed') {
      window.setTimeout(function () { poll(job.id); }, 1000);
    }
  }
  function answer(r) {
    return r.json().then(function (body) {
      if (!r.ok) throw new Error((cfg.lang === 'en' ? body.detail : (body.detail_zh || body.detail)) || r.status);
      return body;
    });
  }
  function failed(e) { bar.style.display = 'none'; say(cfg.words.atlas_error + ': ' + e.message, true); }
  function poll(id) {
    fetch('/print/jobs/' + encodeURIComponent(id) + (cfg.lang === 'en' ? '?lang=en' : ''),
          {credentials: 'same-origin'}).then(answer).then(show).catch(failed);
  }
  atlas.addEventListener('click', function (event) {
    if (!cfg.signed_in) return;  // the plain GET: no job without a user to own it
    event.preventDefault();
    file.style.display = 'none';
    say(cfg.words.atlas_start, false);
    fetch('/api/session', {credentials: 'same-origin'}).then(function (r) { return r.json(); })
      .then(function (s) {
        return fetch(cfg.atlas.replace(/atlas\\.pdf$/, 'atlas/jobs') + query(),
                     {method: 'POST', credentials: 'same-origin',
                      headers: {'Accept': 'application/json', 'X-CSRF-Token': s.csrf_token || ''}});
      }).then(answer).then(show).catch(failed);
  });
})();</script>"""


def print_box(street_code: str, lang: str, viewer: User | None) -> str:
    """The panel's print links: paper, the atlas (a job with progress when signed in), the route of the top N.

    On a phone the folded panel is a bar over the map: it keeps the two links (A4, the top 10) and shows the
    paper and the number of grids when opened."""
    w = WORDS["en" if lang == "en" else "zh"]
    esc = html.escape
    cfg = {"lang": lang, "signed_in": viewer is not None, "words": w,
           "atlas": f"/print/streets/{street_code}/atlas.pdf", "route": f"/print/streets/{street_code}/route.pdf"}
    most = PrintSettings.from_env().route_max_stops  # the route's own limit (HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS)
    top = (f'<span class="print-more">{esc(w["top"])} <input id="route-top" type="number" min="1" max="{most}" '
           f'value="{min(10, most)}" aria-label="{esc(w["top"])}"> {esc(w["grids_unit"])}</span>')
    return f"""{_CSS}<div id="print-box" data-print="{esc(json.dumps(cfg, ensure_ascii=False))}" data-atlas-state="">
<label class="print-more">{esc(w["paper"])} <select id="print-paper"><option>A4</option><option>A3</option></select></label>
<a id="print-atlas" href="{esc(cfg['atlas'])}" target="_blank" rel="noopener">{esc(w["print_atlas"])}</a>
<span style="white-space:nowrap"><a id="print-route" href="{esc(cfg['route'])}" target="_blank" rel="noopener">{esc(w["print_route"])}</a>
{top}</span>
<progress id="atlas-progress" max="1" value="0"></progress><span id="atlas-status" role="status"></span>
<a id="atlas-file" target="_blank" rel="noopener" style="display:none">{esc(w["atlas_file"])}</a></div>
{_SCRIPT}"""
