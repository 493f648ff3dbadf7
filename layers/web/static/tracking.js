/* The public tracking page (/report/{tracking}): draws GET /api/public/reports/{tracking}, follows it,
   and posts the rating after 结案. Words and URLs come from the page (#tr-config); text is set with
   textContent only (descriptions and replies are other people's words). */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('tr-config').textContent);
  var t = cfg.words;
  var state = document.getElementById('tr-state');
  var box = document.getElementById('tr-report');
  var last = null;  // the last answer drawn (JSON), so a follow that changes nothing keeps the form as typed
  // The report's key (only its reporter has it): from the link's #k= fragment, which no browser sends to a
  // server, kept on this phone for later visits. It shows the reporter's own text and lets them rate.
  var key = null;
  var store = 'hm-report-key:' + cfg.tracking;
  try {
    var given = /[#&]k=([^&]+)/.exec(window.location.hash);
    if (given) key = decodeURIComponent(given[1]);
    if (key) window.localStorage.setItem(store, key); else key = window.localStorage.getItem(store);
  } catch (e) { /* no storage (a private window): the fragment alone */ }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  // Times in the city's zone, "2026-11-30 13:05" (sv-SE writes ISO order); without Intl, as the server wrote them.
  var clock = null;
  try {
    clock = new Intl.DateTimeFormat('sv-SE', {timeZone: cfg.time_zone, year: 'numeric', month: '2-digit',
                                              day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false});
  } catch (e) { clock = null; }
  function when(iso) {
    if (!iso) return '';
    return clock ? clock.format(new Date(iso)) : iso.slice(0, 16).replace('T', ' ');
  }
  function ratingText(value) {  // the rating in the page's language (the API speaks Chinese)
    var pair = cfg.ratings.filter(function (p) { return p[0] === value; })[0];
    return pair ? pair[1] : value;
  }
  function status(s) { return cfg.statuses[s] ? s + ' ' + cfg.statuses[s] : s; }
  function row(dl, label, value) {
    if (value === null || value === undefined || value === '') return;
    dl.appendChild(el('dt', null, label));
    dl.appendChild(el('dd', null, value));
  }

  // The report's place in words (the area holding it, the nearest facility), asked once; coordinates until then.
  var placeWords = null, placeAsked = false;
  function placeOf(r) {
    if (!placeAsked) {
      placeAsked = true;
      fetch(cfg.place_api + '?lon=' + r.lon + '&lat=' + r.lat + (cfg.lang === 'en' ? '&lang=en' : ''))
        .then(function (resp) { return resp.ok ? resp.json() : null; }).then(function (d) {
          placeWords = d && window.hmPlaceText(d, t);
          if (placeWords) { var dd = document.querySelector('.tr-place'); if (dd) dd.textContent = placeWords; }
        }).catch(function () { /* the coordinates stay */ });
    }
    return placeWords || (r.lat.toFixed(5) + ', ' + r.lon.toFixed(5));
  }

  // The small map of the report's own point (to 5 decimals, as public points are): made once, kept across the
  // redraws of a follow (the same element moved back in), over the page's basemap or the city's own data
  // (public-map.js, as /report draws it). Only the place: no other report is asked for or drawn.
  var mapBox = el('div', 'tr-map'), map = null, marker = null;
  var mapState = window.hmTrackMapState = {facilities: 0};
  mapBox.id = 'tr-map';
  mapBox.setAttribute('role', 'img');
  mapBox.setAttribute('aria-label', t.map);
  function showMap(r) {
    if (!window.L || typeof r.lon !== 'number' || typeof r.lat !== 'number') { mapBox.hidden = true; return; }
    var point = [Number(r.lat.toFixed(5)), Number(r.lon.toFixed(5))];
    var at = window.hmPublicMap.shown(point[0], point[1], cfg.basemap);
    if (!map) {
      // Pinch and the buttons zoom; one finger scrolls the page, not the map (it is small and the page long).
      map = window.hmPublicMap(mapBox, cfg, {center: at, zoom: cfg.map_zoom, maxZoom: 20, scrollWheelZoom: false,
                                             dragging: !L.Browser.mobile, tap: false});
      window.hmPublicMap.facilities(map, cfg, mapState);  // the toilets, markets… its place is told by
      map.createPane('tr-pin').style.zIndex = 620;  // the pin over the city's names, which may sit on it
      marker = L.circleMarker(at, {radius: 9, color: '#c62828', weight: 3, fillOpacity: 0.4, pane: 'tr-pin',
                                   interactive: false}).addTo(map);
      window.hmTrackMap = map; window.hmTrackMarker = marker;
    } else if (!marker.getLatLng().equals(at)) {
      marker.setLatLng(at); map.setView(at);
    } else {
      map.invalidateSize();
    }
    window.hmTrackPoint = point;  // the WGS84 point drawn (tests compare it with the stored one)
  }

  function reopenedTo(r) {  // where the rating's reopening took the case
    var back = r.steps.filter(function (s) { return s.from === '结案'; });
    return back.length ? back[back.length - 1].to : null;
  }

  function draw(r) {
    box.textContent = '';
    var dl = el('dl', 'tr-facts');
    row(dl, t.status, r.outcome === 'not_taken_up' ? t.not_taken_up : status(r.status));
    var plain = cfg.plain[r.category];  // the resident's words first, the official name after them
    row(dl, t.category, plain ? plain + (cfg.lang === 'en' ? ' (' + r.category + ')' : '（' + r.category + '）')
                              : r.category);
    row(dl, t.reported, when(r.reported_at));
    row(dl, t.due, r.status === '结案' ? '' : when(r.due_at));
    row(dl, t.unit, r.unit);
    row(dl, t.place_is, placeOf(r));
    dl.lastChild.className = 'tr-place';
    row(dl, t.yours, r.description);
    box.appendChild(dl);
    box.appendChild(mapBox);
    if (r.outcome === 'not_taken_up') {  // not to be read as fixed: say so, and why (the unit's public reply)
      var out = el('div', 'tr-outcome');
      out.appendChild(el('p', null, t.not_taken_up_note));
      out.appendChild(el('p', null, r.outcome_reason ? t.why.replace('{r}', r.outcome_reason) : t.no_why));
      box.appendChild(out);
    }
    if (r.joined) box.appendChild(el('p', 'tr-note', t.joined));
    if (r.supporters > 0) {
      box.appendChild(el('p', 'tr-note', r.supporters === 1 ? t.supporter_one : t.supporters.replace('{n}', r.supporters)));
    }

    box.appendChild(el('h2', null, t.steps));
    var ol = el('ol', 'tr-steps');
    r.steps.forEach(function (s) {
      // reopened by a rating: 返工 (to 处置), or a 不予立案 back to 受理 for a fresh decision
      var back = s.from === '结案' ? (s.to === '受理' ? t.reconsider : t.rework) : '';
      var li = el('li', back ? 'tr-rework' : null);
      li.appendChild(el('span', 'tr-step', status(s.to) + (back ? '（' + back + '）' : '')));
      li.appendChild(el('time', null, when(s.at)));
      li.setAttribute('data-status', s.to);
      ol.appendChild(li);
    });
    box.appendChild(ol);

    ['before', 'after'].forEach(function (stage) {
      var shown = (r.photos || []).filter(function (p) { return p.stage === stage; });
      if (!shown.length) return;
      box.appendChild(el('h2', null, t['photos_' + stage]));
      var row = el('div', 'tr-photos');
      row.setAttribute('data-stage', stage);
      shown.forEach(function (p) {
        var fig = el('figure');
        var a = el('a');
        a.href = p.url;
        var img = el('img');
        img.src = p.url; img.alt = t['photos_' + stage]; img.width = p.width; img.height = p.height;
        a.appendChild(img);
        fig.appendChild(a);
        fig.appendChild(el('figcaption', null, when(p.uploaded_at)));
        row.appendChild(fig);
      });
      box.appendChild(row);
    });

    box.appendChild(el('h2', null, t.replies));
    if (!r.replies.length) box.appendChild(el('p', 'tr-note', t.no_reply));
    r.replies.forEach(function (q) {
      var d = el('div', 'tr-reply');
      d.appendChild(el('time', null, when(q.at)));
      d.appendChild(el('p', null, q.reply));
      box.appendChild(d);
    });
    if (r.ratings.length) {
      var latest = r.ratings[r.ratings.length - 1];
      box.appendChild(el('p', 'tr-rated', t.thanks + ' ' + ratingText(latest.rating) +
                                          (latest.reopened ? ' · ' + (reopenedTo(r) === '受理' ? t.reconsidered
                                                                                            : t.reopened) : '')));
    }
    if (r.may_rate) box.appendChild(ratingForm(r));
    else if (r.status === '结案' && !r.reporter && r.rate_until) {
      box.appendChild(el('p', 'tr-note', r.channel === cfg.own_channel ? t.reporter_only
                                                                       : t.by_channel.replace('{c}', r.channel_name || r.channel)));
    }
    box.hidden = false;
    showMap(r);  // once shown: Leaflet measures its box
    document.body.setAttribute('data-status', r.status);
  }

  function ratingForm(r) {
    var f = el('form', 'tr-rate');
    f.id = 'tr-rate';
    f.appendChild(el('h2', null, t.rate));
    f.appendChild(el('p', 'tr-note', t.rate_until.replace('{t}', when(r.rate_until))));
    cfg.ratings.forEach(function (pair) {
      var label = el('label', 'tr-choice');
      var input = el('input');
      input.type = 'radio'; input.name = 'rating'; input.value = pair[0];
      label.appendChild(input);
      label.appendChild(document.createTextNode(' ' + pair[1]));
      f.appendChild(label);
    });
    var reason = el('textarea');
    reason.name = 'reason'; reason.id = 'tr-reason'; reason.maxLength = 500; reason.rows = 3;
    var said = el('label', 'tr-reason', t.reason);  // a real label: a screen reader names the field
    said.htmlFor = 'tr-reason';
    f.appendChild(said);
    f.appendChild(reason);
    var msg = el('p', 'tr-error');
    msg.id = 'tr-rate-msg';
    f.appendChild(msg);
    var send = el('button', null, t.send);
    send.type = 'submit';
    f.appendChild(send);
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var picked = f.querySelector('input[name=rating]:checked');
      var why = reason.value.trim();
      if (!picked) { msg.textContent = t.pick; return; }
      if (picked.value === cfg.unsatisfied && !why) { msg.textContent = t.need_reason; return; }
      send.disabled = true;
      fetch(cfg.api + '/rating', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                  body: JSON.stringify({rating: picked.value, reason: why || null, key: key})})
        .then(function (resp) {
          return resp.json().then(function (b) {
            if (!resp.ok) throw refusal(resp, String(b.detail || b.message || resp.status));
          });
        })
        .then(function () { last = null; load(); })
        .catch(function (e) { send.disabled = false; msg.textContent = e.words || t.rate_failed + (e.message || e); });
    });
    return f;
  }

  // A refused rating in the reader's words (the API speaks English): by its status and what it names.
  function refusal(resp, detail) {
    var e = new Error(detail);
    if (resp.status === 403) e.words = t.reporter_only;
    else if (resp.status === 429) {
      e.words = t.too_often.replace('{m}', Math.max(1, Math.ceil((Number(resp.headers.get('Retry-After')) || 60) / 60)));
    } else if (resp.status === 409) {
      e.words = detail.indexOf('rated already') >= 0 ? t.rated_already
        : detail.indexOf('RATING_DAYS') >= 0 ? t.too_late : t.not_closed;
    } else if (detail.indexOf('reason:') === 0) e.words = t.need_reason;
    return e;
  }

  function load() {
    var headers = {'Accept': 'application/json'};
    if (key) headers['X-Report-Key'] = key;
    return fetch(cfg.api, {headers: headers, cache: 'no-store'}).then(function (resp) {
      if (resp.status === 404) { state.textContent = t.missing; state.className = 'tr-error'; return; }
      if (!resp.ok) throw new Error(resp.status);
      return resp.text().then(function (text) {
        var r = JSON.parse(text);
        state.textContent = r.reporter ? t.keep_link : t.keep;  // the reporter's link holds the key: keep it
        state.className = 'tr-note';
        if (r.reporter) keepLink();
        if (text === last) return;
        // Keep a half-filled rating form: redraw only when the report changed.
        last = text;
        draw(r);
      });
    }).catch(function () { state.textContent = t.failed; state.className = 'tr-error'; });
  }

  // "Keep this link": nothing is sent to the resident, so the link (with its key) must be kept here: a copy
  // button, the link shown, and its QR code drawn by this server (api/routes/public_keep.py). Drawn once.
  function keepLink() {
    if (document.getElementById('tr-keep')) return;
    var link = window.location.origin + window.location.pathname + window.location.search + '#k=' + encodeURIComponent(key);
    var sec = el('section', 'tr-keep');
    sec.id = 'tr-keep';
    sec.appendChild(el('h2', null, t.save));
    sec.appendChild(el('p', 'tr-note', t.save_note));
    var shown = el('input');
    shown.type = 'url'; shown.readOnly = true; shown.value = link; shown.id = 'tr-link';
    shown.setAttribute('aria-label', t.save);
    sec.appendChild(shown);
    var copy = el('button', null, t.copy);
    copy.type = 'button'; copy.id = 'tr-copy';
    var said = el('p', 'tr-note');
    said.id = 'tr-copied'; said.setAttribute('role', 'status');
    copy.addEventListener('click', function () {
      var done = function () { said.textContent = t.copied; };
      var fallback = function () {  // no clipboard API (plain HTTP, older in-app browsers): select and copy
        shown.focus(); shown.select();
        try { if (document.execCommand('copy')) return done(); } catch (e) { /* said below */ }
        said.textContent = t.copy_failed;
      };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(link).then(done, fallback);
      else fallback();
    });
    sec.appendChild(copy);
    sec.appendChild(said);
    state.parentNode.insertBefore(sec, box);
    fetch(cfg.api + '/qr.svg' + (cfg.lang === 'en' ? '?lang=en' : ''), {headers: {'X-Report-Key': key}})
      .then(function (resp) { return resp.ok ? resp.text() : null; }).then(function (svg) {
        if (!svg) return;
        var img = el('img');
        img.id = 'tr-qr'; img.alt = t.qr; img.width = 180; img.height = 180;
        img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);  // data: as the page's CSP allows
        sec.insertBefore(img, said.nextSibling);
      }).catch(function () { /* the link and its copy button stay */ });
  }

  load();
  // Staff moving the case show without a reload: asked again while the page is shown, at once when shown again.
  setInterval(function () { if (!document.hidden) load(); }, cfg.follow_ms);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) load(); });
})();
