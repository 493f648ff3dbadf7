/* The case page (/cases, 工单办理): the logged-in user's complaints (GET /api/complaints, newest first, a page
   at a time), one complaint's detail (GET /api/complaints/{id}), its next workflow step (PATCH), an extension
   request, and for the campaign office the decision on it or a new deadline — all through the complaint API,
   each write with an Idempotency-Key and the session's CSRF token. Times in the city's zone.
   For people and tests: body[data-rows] = rows shown, body[data-detail] = the complaint shown. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('cs-config').textContent);
  var t = cfg.words, wf = cfg.workflow;
  var rows = document.getElementById('cs-rows'), more = document.getElementById('cs-more');
  var listView = document.getElementById('cs-list-view'), detailBox = document.getElementById('cs-detail');
  var listMsg = document.getElementById('cs-list-msg');
  var scopeSel = document.getElementById('cs-scope'), statusSel = document.getElementById('cs-status');
  var PAGE = 20, shown = 0, csrf = null, loadedKey = null, loads = 0, OPEN = 'open';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  // A time as "2026-11-30 13:05" in the city's zone (sv-SE writes ISO order), whatever the phone's zone.
  function when(iso) {
    if (!iso) return '–';
    return new Intl.DateTimeFormat('sv-SE', {timeZone: cfg.time_zone, year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false}).format(new Date(iso));
  }
  function statusName(s) { return wf.names[s] || s; }
  function categoryName(c) { return (cfg.categories || {})[c] || c; }  // the event type in the page's language
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  // An API answer as {status, body}; a body that is not JSON reads as {}.
  function answer(r) {
    return r.json().catch(function () { return {}; }).then(function (b) { return {status: r.status, body: b}; });
  }
  function getJson(url) {
    return fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}}).then(answer);
  }
  function token() {
    if (csrf) return Promise.resolve(csrf);
    return getJson('/api/session').then(function (a) { csrf = a.body.csrf_token; return csrf; });
  }
  // One write: JSON body, the CSRF token and an Idempotency-Key (``key``: the caller's, so that sending the same
  // body again after a lost answer is the same write, never a second one).
  function write(method, url, body, key) {
    return token().then(function (csrfToken) {
      return fetch(url, {method: method, credentials: 'same-origin', body: JSON.stringify(body),
        headers: {'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRF-Token': csrfToken,
                  'Idempotency-Key': key || uuid()}});
    }).then(answer);
  }
  // A refusal's words in the page's language: its Chinese on a Chinese page where it has them, else its English.
  function detailText(body) {
    var d = body && ((cfg.lang !== 'en' && body.detail_zh) || body.detail);
    if (Array.isArray(d)) return d.map(function (x) { return x.msg || JSON.stringify(x); }).join('; ');
    return d ? String(d) : '';
  }
  // An API error in the page's words: 409 of a step names the states allowed now, 403 the user's scope. The
  // English detail is what is matched (``en``); ``d`` is what is shown.
  function explain(answer, current) {
    var d = detailText(answer.body), n = answer.status, en = String((answer.body && answer.body.detail) || '');
    if (n === 409 && current && /cannot go from/.test(en)) {
      var allowed = wf.next[current.status] || [];
      return t.e409_status.replace('{s}', statusName(current.status))
        .replace('{a}', allowed.length ? allowed.map(statusName).join('、') : t.none);
    }
    if (n === 409) return t.e409.replace('{d}', d);
    if (n === 403) return t.e403.replace('{scope}', cfg.user.scope) + (/CSRF/.test(en) ? ' · ' + d : '');
    if (n === 401) return t.e401;
    if (n === 422 && /^due_at\b/.test(en)) return t.e_due + ' (' + d + ')';
    if (n === 422 && /^note\b/.test(en)) return t.need_note;
    if (n === 422 || n === 400) return t.e422.replace('{d}', d);
    return t.e_other.replace('{n}', n).replace('{d}', d);
  }

  // ---- the list ----
  (function fillFilters() {
    cfg.scopes.forEach(function (s, i) {
      var o = el('option', null, s.label);
      o.value = String(i);
      scopeSel.appendChild(o);
    });
    var box = document.getElementById('cs-scope-box');
    if (cfg.scopes.length < 2) box.hidden = true;
    else if (cfg.scopes[0].param === 'grid') box.firstChild.textContent = t.grid + ' ';
    // An inbox: the complaints still to be handled first (未办结, the default), then all, then each status.
    var open = el('option', null, t.open);
    open.value = OPEN;
    statusSel.appendChild(open);
    var all = el('option', null, t.all);
    all.value = '';
    statusSel.appendChild(all);
    wf.statuses.forEach(function (s) { var o = el('option', null, statusName(s)); o.value = s; statusSel.appendChild(o); });
    // ?street=CODE (the index page's and the street map's links) picks that street; else the last one picked.
    var street = new URLSearchParams(location.search).get('street'), stored = sessionStorage.getItem('hm-cases-scope');
    var asked = cfg.scopes.map(function (s) { return s.param === 'street' ? s.value : null; }).indexOf(street);
    if (street && asked >= 0) scopeSel.value = String(asked);
    else if (stored && cfg.scopes[Number(stored)]) scopeSel.value = stored;
  })();
  function listUrl(offset) {
    var q = new URLSearchParams({limit: String(PAGE), offset: String(offset)});
    var scope = cfg.scopes[Number(scopeSel.value) || 0];
    if (scope && scope.param) q.set(scope.param, scope.value);
    if (statusSel.value === OPEN) q.set('open', 'true');
    else if (statusSel.value) q.set('status', statusSel.value);
    if (document.getElementById('cs-overdue').checked) q.set('overdue', 'true');
    if (document.getElementById('cs-pending').checked) q.set('pending_extension', 'true');
    if (document.getElementById('cs-awaiting').checked) q.set('awaiting_reply', 'true');
    var words = document.getElementById('cs-q').value.trim();
    if (words) q.set('q', words);
    return '/api/complaints?' + q.toString();
  }
  function row(c) {
    var tr = el('tr', c.overdue ? 'cs-overdue' : '');
    tr.setAttribute('data-id', c.id);
    var link = el('a', null, String(c.id));
    link.href = '#' + c.id;
    var id = el('td'); id.appendChild(link);
    var status = el('td', null, statusName(c.status));
    status.setAttribute('data-status', c.status);
    var due = el('td', null, when(c.due_at));
    if (c.overdue) due.appendChild(el('b', 'cs-flag', t.overdue));
    var category = el('td', null, categoryName(c.category));
    if (c.address) category.appendChild(el('small', 'cs-addr', c.address));
    [id, category, status, el('td', null, when(c.reported_at)), due].forEach(function (td) { tr.appendChild(td); });
    tr.addEventListener('click', function () { location.hash = String(c.id); });
    return tr;
  }
  function load(offset) {
    if (!offset) { rows.textContent = ''; shown = 0; }
    listMsg.textContent = '';
    more.hidden = true;
    document.body.removeAttribute('data-rows');
    var mine = ++loads;  // only the last list asked for is shown (typing sends several)
    return getJson(listUrl(offset)).then(function (a) {
      if (mine !== loads) return;
      if (a.status !== 200) { listMsg.textContent = explain(a); return; }
      a.body.items.forEach(function (c) { rows.appendChild(row(c)); });
      shown += a.body.items.length;
      if (!shown) {
        rows.appendChild(el('tr', 'tr-note')).appendChild(
          el('td', null, statusSel.value === OPEN ? t.empty_open : t.empty)).colSpan = 5;
      }
      more.hidden = a.body.next_offset === null;
      more.onclick = function () { load(a.body.next_offset); };
      document.getElementById('cs-count').textContent = t.page_of.replace('{n}', shown);
      document.body.setAttribute('data-rows', shown);
      loadedKey = listUrl(0);
    }, function () { listMsg.textContent = t.e_net; });
  }
  var filters = document.getElementById('cs-filters'), typing = null;
  function filtered() {
    clearTimeout(typing);
    sessionStorage.setItem('hm-cases-scope', scopeSel.value);
    otherLanguage();
    if (loadedKey !== listUrl(0)) load(0);
  }
  filters.addEventListener('change', filtered);
  filters.addEventListener('submit', function (ev) { ev.preventDefault(); filtered(); });
  // The search box looks a moment after the typing stops (a number, a resident's 查询码, a hotline number or words
  // of the address).
  document.getElementById('cs-q').addEventListener('input', function () {
    clearTimeout(typing);
    typing = setTimeout(filtered, 400);
  });

  // ---- one complaint ----
  function fact(dl, label, value) {
    if (value === undefined) return;  // a column this user may not read is not in the answer
    dl.appendChild(el('dt', null, label));
    return dl.appendChild(el('dd', null, value === null || value === '' ? '–' : value));
  }
  function facts(c) {
    var dl = el('dl', 'tr-facts');
    fact(dl, t.status, statusName(c.status));
    fact(dl, t.reported, when(c.reported_at));
    var due = fact(dl, t.due, when(c.due_at));
    due.id = 'cs-due';
    if (c.overdue) due.appendChild(el('b', 'cs-flag', t.overdue));
    fact(dl, t.category, categoryName(c.category));
    fact(dl, t.channel, c.channel);
    fact(dl, t.hotline_no, c.source_id);
    fact(dl, t.description, c.description);
    fact(dl, t.street_address, c.address);
    fact(dl, t.address, (c.lat !== null && c.lat !== undefined) ? c.lat.toFixed(5) + ', ' + c.lon.toFixed(5) : null);
    var names = c.area_names || {};  // 大同區（6300600）, 永樂里（6300600005）: the name first, the code beside it
    var named = function (name, code) {
      if (!name) return code;
      return cfg.lang === 'en' ? name.en + ' (' + code + ')' : name.zh + '（' + code + '）';
    };
    fact(dl, t.street, named(names.street, c.street_code));
    fact(dl, t.community, named(names.community, c.community_code));
    fact(dl, t.grid, c.grid_code);
    fact(dl, t.unit, c.responsible_unit);
    return dl;
  }
  function history(c) {
    var ol = el('ol', 'tr-steps');
    ol.id = 'cs-history';
    c.events.forEach(function (e) {
      var li = el('li', e.from === '核查' && e.to === '处置' ? 'tr-rework' : '');
      li.setAttribute('data-to', e.to);
      li.appendChild(el('b', null, (e.from ? statusName(e.from) + ' → ' : '') + statusName(e.to)));
      if (e.note) li.appendChild(el('p', 'cs-note', e.note));
      li.appendChild(el('time', null, when(e.at) + (e.actor ? ' · ' + t.by + ' ' + e.actor : '')));
      ol.appendChild(li);
    });
    return ol;
  }
  function deadlineHistory(c) {
    var ol = el('ol', 'cs-deadlines');
    ol.id = 'cs-deadline-history';
    (c.deadline_changes || []).forEach(function (d) {
      var li = el('li');
      li.setAttribute('data-kind', d.kind);
      li.appendChild(el('b', null, (t.kinds[d.kind] || d.kind) + ': ' + when(d.due_before) + ' → ' + when(d.due_after)));
      // Why: the request's reason, the decision's note (a rejection's says what to do instead), as text.
      if (d.reason) li.appendChild(el('p', 'cs-note', d.reason));
      li.appendChild(el('time', null, when(d.at) + (d.actor ? ' · ' + t.by + ' ' + d.actor : '')));
      ol.appendChild(li);
    });
    if (!ol.children.length) ol.appendChild(el('li', 'tr-note', t.none));
    return ol;
  }
  function show(id, message) {
    document.body.removeAttribute('data-detail');
    return getJson('/api/complaints/' + id).then(function (a) {
      listView.hidden = true;
      detailBox.hidden = false;
      detailBox.textContent = '';
      var back = el('a', 'cs-back', t.back);
      back.href = '#';
      detailBox.appendChild(back);
      if (a.status !== 200) { detailBox.appendChild(el('p', 'tr-error', explain(a))); return; }
      var c = a.body;
      detailBox.appendChild(el('h2', null, t.id + ' ' + c.id + ' · ' + categoryName(c.category)));
      detailBox.appendChild(facts(c));
      window.hmCases.reporters(c, detailBox);  // who reported it, in their words, before what to do
      window.hmCases.actions(c, detailBox);
      window.hmCases.photos(c, detailBox);  // before and after photos of the work, and adding one
      var msg = el('p', 'tr-error cs-msg', message && message.error);
      msg.id = 'cs-msg'; msg.setAttribute('role', 'alert');
      detailBox.insertBefore(msg, detailBox.children[2]);
      if (message && message.ok) detailBox.insertBefore(el('p', 'cs-ok', message.ok), msg).id = 'cs-ok';
      detailBox.appendChild(el('h3', null, t.history));
      detailBox.appendChild(history(c));
      detailBox.appendChild(el('h3', null, t.deadlines));
      detailBox.appendChild(deadlineHistory(c));
      document.body.setAttribute('data-detail', c.id);
      document.body.setAttribute('data-status', c.status);
    }, function () { detailBox.appendChild(el('p', 'tr-error', t.e_net)); });
  }
  // The other language keeps the street chosen and the complaint shown.
  function otherLanguage() {
    var scope = cfg.scopes[Number(scopeSel.value) || 0], q = new URLSearchParams({lang: cfg.lang === 'en' ? 'zh' : 'en'});
    if (scope && scope.param === 'street' && cfg.scopes.length > 1) q.set('street', scope.value);
    document.getElementById('cs-lang').href = '?' + q.toString() + location.hash;
  }
  function route() {
    otherLanguage();
    var id = location.hash.replace('#', '');
    if (/^\d+$/.test(id)) { show(id); return; }
    detailBox.hidden = true;
    listView.hidden = false;
    document.body.removeAttribute('data-detail');
    if (loadedKey !== listUrl(0)) load(0);
  }
  window.addEventListener('hashchange', route);
  window.hmCases = {cfg: cfg, write: write, getJson: getJson, uuid: uuid, show: show, explain: explain,
                    token: token, answer: answer,
                    detailText: detailText, el: el, when: when,
                    statusName: statusName, reloadList: function () { loadedKey = null; }};
  document.addEventListener('DOMContentLoaded', route);
  if (document.readyState !== 'loading') route();
})();
