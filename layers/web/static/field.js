/* The field page (/field): round, place (GPS or a tap), checklist item (the place type nearby first), note,
   photos resized on the phone; every finding is kept in IndexedDB with its client_id and sent by a queue when
   the network is there (the "online" event, a periodic retry, a button). The server answers the same client_id
   with the same finding and the same photo of a finding with the same row: sending again never duplicates.
   For people and tests: body[data-pending] = findings or photos waiting, body[data-sent] = findings sent. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('fd-config').textContent);
  var t = cfg.words;
  var form = document.getElementById('fd-form');
  var msg = document.getElementById('fd-msg');
  var saved = document.getElementById('fd-saved');
  var unitBox = document.getElementById('fd-unit');
  var place = null;  // {lon, lat, crs}
  var marker = null;
  var photos = [];  // resized blobs of the finding being made

  // ---- storage: one IndexedDB store of findings, each with its photos (Blobs) and its sending state ----
  var dbReady = new Promise(function (done, failed) {
    var open = indexedDB.open('hm-field', 1);
    open.onupgradeneeded = function () { open.result.createObjectStore('findings', {keyPath: 'client_id'}); };
    open.onsuccess = function () { done(open.result); };
    open.onerror = function () { failed(open.error); };
  });
  function store(mode, work) {
    return dbReady.then(function (db) {
      return new Promise(function (done, failed) {
        var tx = db.transaction('findings', mode), result;
        var req = work(tx.objectStore('findings'));
        if (req) req.onsuccess = function () { result = req.result; };
        tx.oncomplete = function () { done(result); };
        tx.onerror = function () { failed(tx.error); };
      });
    });
  }
  var all = function () { return store('readonly', function (s) { return s.getAll(); }); };
  var put = function (rec) { return store('readwrite', function (s) { s.put(rec); }); };
  var remove = function (id) { return store('readwrite', function (s) { s.delete(id); }); };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // ---- the round ----
  var roundSelect = document.getElementById('fd-round');
  (function fillRounds() {
    var now = new Date().toISOString();
    var open = cfg.rounds.filter(function (r) { return Date.parse(r.starts) <= Date.parse(now) && Date.parse(now) < Date.parse(r.ends); });
    if (!open.length) { roundSelect.innerHTML = '<option value="">' + t.no_round + '</option>'; return; }
    open.forEach(function (r) {
      var o = document.createElement('option');
      // An unannounced round says so, unless its kind (月度暗访) does already: the inspector comes unrecognised.
      var secret = r.unannounced && r.kind.indexOf('暗访') < 0 ? ' · ' + t.unannounced : '';
      o.value = r.id; o.textContent = r.name + ' · ' + r.kind + secret;
      roundSelect.appendChild(o);
    });
    var mine = cfg.grid && open.filter(function (r) { return r.streets.indexOf(cfg.grid.street_code) >= 0; })[0];
    var last = localStorage.getItem('hm-field-round');
    if (mine) roundSelect.value = mine.id;
    else if (last && open.some(function (r) { return String(r.id) === last; })) roundSelect.value = last;
  })();
  roundSelect.addEventListener('change', function () { localStorage.setItem('hm-field-round', roundSelect.value); });

  // ---- the place ----
  var map = L.map('fd-map', {center: cfg.center, zoom: 15, maxZoom: 20});
  var view = cfg.grid ? cfg.grid.bounds : cfg.bounds;  // a grid sheet's QR code: that grid, else the city
  if (view) map.fitBounds([[view[1], view[0]], [view[3], view[2]]], {animate: false});
  window.hygieneContext.init(map, {lang: cfg.lang, outlines: true, roads: true});
  if (cfg.grid) {
    // A sheet printed before its street was cut again: its grid as printed, dashed (the server says so above).
    var style = cfg.grid.redrawn ? {color: '#d7191c', weight: 3, dashArray: '8 6', fill: false}
      : {color: '#1565c0', weight: 3, fill: true, fillOpacity: 0.08};
    L.geoJSON(cfg.grid.geometry, {style: style, interactive: false}).addTo(map);
  }
  function setPlace(lat, lon, crs) {
    place = {lon: lon, lat: lat, crs: crs};
    if (marker) marker.setLatLng([lat, lon]);
    else marker = L.circleMarker([lat, lon], {radius: 9, color: '#c62828', weight: 3, fillOpacity: 0.4}).addTo(map);
    document.getElementById('fd-place').textContent = t.placed + ': ' + lat.toFixed(5) + ', ' + lon.toFixed(5);
    msg.textContent = '';
    unitBox.hidden = true;  // said again once the place is looked up (not offline: unknown there)
    lookNearby();
  }
  map.on('click', function (e) { setPlace(e.latlng.lat, e.latlng.lng, 'wgs84'); });
  document.getElementById('fd-gps').addEventListener('click', function () {
    if (!navigator.geolocation) { msg.textContent = t.no_gps; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      setPlace(p.coords.latitude, p.coords.longitude, 'wgs84');
      map.setView([p.coords.latitude, p.coords.longitude], 18);
    }, function () { msg.textContent = t.no_gps; }, {enableHighAccuracy: true, timeout: 15000});
  });

  // ---- the checklist item: the place types found near the point first, the others folded ----
  var itemsBox = document.getElementById('fd-items');
  function group(type) {
    var box = document.createElement('fieldset');
    box.innerHTML = '<legend></legend>';
    box.firstChild.textContent = cfg.place_names[type] || type;  // the page's language; matched by its zh name
    cfg.items.filter(function (i) { return i.place_type === type; }).forEach(function (i) {
      var label = document.createElement('label');
      label.className = 'fd-item';
      label.innerHTML = '<input type="radio" name="item"> <span></span> <small></small>';
      label.querySelector('input').value = i.code;
      label.querySelector('span').textContent = i.text;
      label.querySelector('small').textContent = i.code + ' · −' + i.deduction;
      box.appendChild(label);
    });
    return box;
  }
  function showItems(near) {
    var picked = form.querySelector('input[name=item]:checked');
    var keep = picked && picked.value;
    itemsBox.textContent = '';
    var types = near.map(function (n) { return n.place_type; });
    types.forEach(function (type) { itemsBox.appendChild(group(type)); });
    var rest = document.createElement('details');
    rest.open = !types.length;
    rest.innerHTML = '<summary></summary>';
    rest.firstChild.textContent = t.others;
    cfg.place_types.filter(function (p) { return types.indexOf(p) < 0; }).forEach(function (p) { rest.appendChild(group(p)); });
    itemsBox.appendChild(rest);
    var again = keep && itemsBox.querySelector('input[value="' + keep + '"]');
    if (again) again.checked = true;
    document.getElementById('fd-near').textContent = near.length ? t.nearby.replace('{m}', cfg.near_m) +
      near.map(function (n) { return (cfg.place_names[n.place_type] || n.place_type) + (n.name ? '（' + n.name + '）' : '') + ' ' + Math.round(n.distance_m) + ' m'; }).join('、') : '';
    document.body.setAttribute('data-near', types.join(','));
  }
  // A place no unit answers for yet (its grid has none on the roster, or no grid holds it): the finding is still
  // saved, charged to nobody, so the inspector is told, to tell the street office.
  function showUnit(grid) {
    var none = !(grid && grid.responsible_unit);
    unitBox.textContent = !none ? '' : grid ? t.no_unit.replace('{grid}', grid.code) : t.no_grid;
    unitBox.hidden = !none;
  }
  function lookNearby() {
    var at = place;
    fetch('/api/inspections/places?lon=' + at.lon + '&lat=' + at.lat + '&crs=' + at.crs, {credentials: 'same-origin'})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (found) { if (place === at) { showUnit(found.grid); showItems(found.items); } })
      .catch(function () { if (place === at) showItems([]); });  // offline: every item, unordered by place
  }
  showItems([]);

  // ---- photos: resized on the phone to at most cfg.photo_px pixels, JPEG (photo-shrink.js) ----
  function resize(file) { return window.hmShrink(file, cfg.photo_px); }
  var input = document.getElementById('fd-photo');
  input.addEventListener('change', function () {
    var files = Array.prototype.slice.call(input.files);
    input.value = '';
    msg.textContent = t.resizing;
    document.body.setAttribute('data-resizing', '1');
    Promise.all(files.map(resize)).then(function (blobs) {
      blobs.forEach(function (b) { if (b) photos.push(b); });
      drawThumbs();
      msg.textContent = '';
    }).catch(function (e) { msg.textContent = String(e); })
      .then(function () { document.body.removeAttribute('data-resizing'); });
  });
  function drawThumbs() {
    var box = document.getElementById('fd-thumbs');
    box.textContent = '';
    photos.forEach(function (b) {
      var img = document.createElement('img');
      img.src = URL.createObjectURL(b);
      box.appendChild(img);
    });
    box.setAttribute('data-photos', photos.length);
  }

  // ---- saving a finding: into IndexedDB first, then the queue sends it ----
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var picked = form.querySelector('input[name=item]:checked');
    if (!roundSelect.value) { msg.textContent = t.need_round; return; }
    if (!place) { msg.textContent = t.need_place; return; }
    if (!picked) { msg.textContent = t.need_item; return; }
    var id = uuid();
    var item = cfg.items.filter(function (i) { return i.code === picked.value; })[0];
    var rec = {client_id: id, user: cfg.user.name, made: Date.now(), state: 'pending', label: item.code + ' ' + item.text,
               body: {round_id: Number(roundSelect.value), lon: place.lon, lat: place.lat, crs: place.crs,
                      item: item.code, note: form.note.value.trim() || null, observed_at: new Date().toISOString(),
                      client_id: id},
               photos: photos.map(function (b) { return {blob: b, sent: false}; })};
    put(rec).then(function () {
      photos = []; drawThumbs(); picked.checked = false; form.note.value = '';
      msg.textContent = '';
      saved.textContent = t.saved;  // a notice, apart from the errors: cleared once nothing waits to be sent
      return render();
    }).then(flush);
  });

  // ---- the queue ----
  var flushing = null;
  function send(url, init, csrf) {
    init.headers = Object.assign({'Accept': 'application/json', 'X-CSRF-Token': csrf}, init.headers || {});
    init.credentials = 'same-origin';
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) { return {status: r.status, body: b}; });
    });
  }
  function refused(answer) { return answer.status >= 400 && answer.status < 500 && answer.status !== 401 && answer.status !== 429; }
  // A refusal's words in the page's language: its Chinese on a Chinese page where it has them, else its English.
  function said(answer) {
    var b = answer.body || {};
    return (cfg.lang !== 'en' && b.detail_zh) || b.detail || ('HTTP ' + answer.status);
  }
  function sendOne(rec, csrf) {
    var step = Promise.resolve();
    if (!rec.server) {
      step = send('/api/inspections/findings', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                                body: JSON.stringify(rec.body)}, csrf).then(function (a) {
        if (a.status === 200 || a.status === 201) {
          rec.server = {id: a.body.id, grid_code: a.body.grid_code, due_at: a.body.due_at, status: a.body.status,
                        unit: a.body.unit};
          rec.state = 'sent';
        } else if (refused(a)) { rec.state = 'failed'; rec.error = said(a); }
        else throw new Error('HTTP ' + a.status);
        return put(rec);
      });
    }
    return step.then(function () {
      if (!rec.server) return;
      return rec.photos.reduce(function (chain, photo) {
        return chain.then(function () {
          if (photo.sent || photo.error) return;
          var data = new FormData();
          data.append('stage', 'before');
          data.append('file', photo.blob, 'photo.jpg');
          return send('/api/inspections/findings/' + rec.server.id + '/photos', {method: 'POST', body: data}, csrf)
            .then(function (a) {
              if (a.status === 200 || a.status === 201) photo.sent = true;
              else if (refused(a)) photo.error = said(a);
              else throw new Error('HTTP ' + a.status);
              return put(rec);
            });
        });
      }, Promise.resolve());
    });
  }
  function waiting(rec) {
    return rec.state === 'pending' || (rec.state === 'sent' && rec.photos.some(function (p) { return !p.sent && !p.error; }));
  }
  function flush() {
    if (flushing) return flushing;
    flushing = all().then(function (recs) {
      var todo = recs.filter(function (r) { return waiting(r) && r.user === cfg.user.name; });
      if (!todo.length) return;
      return fetch('/api/session', {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
        .then(function (r) { return r.json(); }).then(function (s) {
          if (!s.user || s.user !== cfg.user.name) { msg.textContent = t.login_again; return; }
          return todo.sort(function (a, b) { return a.made - b.made; }).reduce(function (chain, rec) {
            return chain.then(function () { return sendOne(rec, s.csrf_token); });
          }, Promise.resolve());
        });
    }).catch(function () { /* no network or a server error: the queue tries again later */ })
      .then(function () { flushing = null; return render(); });
    return flushing;
  }

  // Times in the city's zone (the server's deadlines are days there), whatever the phone's zone; written
  // 2026-12-04 05:38 as on the case page and the prints (Swedish dates are ISO-like), not the phone's 2026/12/4.
  function when(iso, time) {
    var opts = {timeZone: cfg.time_zone, year: 'numeric', month: '2-digit', day: '2-digit'};
    if (time) { opts.hour = '2-digit'; opts.minute = '2-digit'; opts.hour12 = false; }
    return new Date(iso).toLocaleString('sv-SE', opts);
  }
  function render() {
    return all().then(function (recs) {
      var ul = document.getElementById('fd-queue');
      ul.textContent = '';
      recs.sort(function (a, b) { return b.made - a.made; });
      var pending = 0, sent = 0;
      recs.forEach(function (rec) {
        var li = document.createElement('li');
        var left = rec.photos.filter(function (p) { return !p.sent && !p.error; }).length;
        if (waiting(rec)) pending++;
        if (rec.state === 'sent') sent++;
        li.setAttribute('data-state', rec.state);
        li.setAttribute('data-client-id', rec.client_id);
        var state = rec.state === 'sent' ? t.sent + ' · ' + t.grid + ' ' + (rec.server.grid_code || '-') + ' · ' + t.due + ' ' + when(rec.server.due_at, true) +
          (rec.server.unit === null ? ' · ' + t.no_unit_sent : '')  // null: charged to no unit (undefined: kept before)
          : rec.state === 'failed' ? t.failed + ': ' + rec.error : t.pending;
        if (rec.user !== cfg.user.name) state = t.other_user.replace('{u}', rec.user);
        li.innerHTML = '<b></b><br><span class="fd-state"></span><br><small></small>';
        li.querySelector('b').textContent = rec.label;
        li.querySelector('.fd-state').textContent = state;
        li.querySelector('small').textContent = when(rec.made, true) + ' · ' + t.photo_n.replace('{n}', rec.photos.length) +
          (left && rec.state === 'sent' ? ' · ' + t.photos_pending + ' ' + left : '') +
          rec.photos.filter(function (p) { return p.error; }).map(function (p) { return ' · ' + t.failed + ': ' + p.error; }).join('');
        if (rec.state === 'failed') {
          var del = document.createElement('button');
          del.type = 'button'; del.className = 'fd-small'; del.textContent = t.remove;
          del.addEventListener('click', function () { remove(rec.client_id).then(render); });
          li.appendChild(del);
        }
        ul.appendChild(li);
      });
      if (!recs.length) ul.innerHTML = '<li class="tr-note"></li>', ul.firstChild.textContent = t.empty;
      document.body.setAttribute('data-pending', pending);
      document.body.setAttribute('data-sent', sent);
      if (!pending) saved.textContent = '';
    });
  }

  function network() {
    document.getElementById('fd-net').textContent = navigator.onLine ? '' : ' · ' + t.offline;
    document.body.setAttribute('data-online', navigator.onLine ? '1' : '0');
  }
  window.addEventListener('online', function () { network(); flush(); });
  window.addEventListener('offline', network);
  document.getElementById('fd-send').addEventListener('click', flush);
  setInterval(function () { if (document.body.getAttribute('data-pending') !== '0') flush(); }, cfg.retry_ms);
  network();
  if (['inspector', 'admin'].indexOf(cfg.user.role) < 0) msg.textContent = t.not_inspector;
  if (cfg.grid) {  // prefilled: a point inside the grid; a tap or the GPS moves it
    setPlace(cfg.grid.point[1], cfg.grid.point[0], 'wgs84');
    document.getElementById('fd-place').textContent += ' · ' + (cfg.grid.redrawn ? t.grid_then : t.grid) + ' ' +
      cfg.grid.code + (cfg.grid.name ? ' ' + cfg.grid.name : '');
  }
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(cfg.sw, {scope: '/field'}).catch(function () { /* plain HTTP: no worker */ });
  }
  render().then(flush);
  window.hmField = {map: map, flush: flush, all: all, place: function () { return place && [place.lat, place.lon]; },
                    resize: resize, send: send, when: when, said: said};  // field-todo.js uses the last four
})();
