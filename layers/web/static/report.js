/* The public report page (/report): place by GPS or a tap, photos resized here, nearby check, proof-of-work,
   post the report, then its photos with the report's challenge.
   Stages for people and tests: body[data-stage] = form | nearby | solving | sent. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('rp-config').textContent);
  var t = cfg.words;
  var form = document.getElementById('rp-form');
  var msg = document.getElementById('rp-msg');
  var send = document.getElementById('rp-send');
  var nearbyBox = document.getElementById('rp-nearby');
  var place = null;  // {lon, lat, crs}
  var marker = null;
  var stage = function (s) { document.body.setAttribute('data-stage', s); };
  stage('form');

  // The basemap, or the city's own roads and names (public-map.js, shared with the tracking page).
  var map = window.hmPublicMap('rp-map', cfg, {center: cfg.center, zoom: 15, maxZoom: 20},
                               cfg.bounds && [[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]]);
  var base = cfg.basemap;
  window.hmReportMap = map;
  window.hmReportReady = true;

  // place: what is sent (lon, lat in crs); the marker is drawn where the map shows it.
  function setPlace(lat, lon, crs, shown) {
    place = {lon: lon, lat: lat, crs: crs};
    var at = shown || [lat, lon];
    if (marker) marker.setLatLng(at);
    else marker = L.circleMarker(at, {radius: 9, color: '#c62828', weight: 3, fillOpacity: 0.4}).addTo(map);
    document.getElementById('rp-place').textContent = t.placed + ': ' + lat.toFixed(5) + ', ' + lon.toFixed(5);
    msg.textContent = '';
    window.hmReportPlace = place;
    map.fire('hmplace', {place: place, shown: at});  // report-places.js: the place in words, reports around it
  }
  window.hmReportSetPlace = setPlace;
  // A tap is a point in the map's CRS: WGS84 on the city's own data, GCJ-02 on Gaode (the server converts).
  map.on('click', function (e) { setPlace(e.latlng.lat, e.latlng.lng, base.crs); });
  document.getElementById('rp-gps').addEventListener('click', function () {
    if (!navigator.geolocation) { msg.textContent = t.no_gps; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      var lat = p.coords.latitude, lon = p.coords.longitude, shown = window.hmPublicMap.shown(lat, lon, base);
      setPlace(lat, lon, 'wgs84', shown);  // GPS is WGS84 whatever the map
      map.setView(shown, 18);
    }, function () { msg.textContent = t.no_gps; }, {enableHighAccuracy: true, timeout: 15000});
  });

  // Photos: each is drawn on a canvas at most cfg.photo_px on its long side and sent as JPEG, so a phone's
  // 5 MB picture becomes a few hundred kB (and the canvas keeps no EXIF). Thumbnails are data: URLs (the CSP).
  var photos = [];  // Blobs, in the order chosen
  var thumbs = document.getElementById('rp-thumbs');
  window.hmReportPhotos = photos;
  function shrink(file) {
    return new Promise(function (done, failed) {
      var reader = new FileReader();
      var bad = function () { failed(new Error(t.photo_bad.replace('{name}', file.name))); };
      reader.onerror = bad;
      reader.onload = function () {
        var img = new Image();
        img.onerror = bad;
        img.onload = function () {
          var scale = Math.min(1, cfg.photo_px / Math.max(img.naturalWidth, img.naturalHeight));
          var c = document.createElement('canvas');
          c.width = Math.max(1, Math.round(img.naturalWidth * scale));
          c.height = Math.max(1, Math.round(img.naturalHeight * scale));
          c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
          c.toBlob(function (b) { if (b) done({blob: b, canvas: c}); else bad(); },
                   'image/jpeg', 0.85);
        };
        img.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }
  function drawThumbs() {
    thumbs.textContent = '';
    photos.forEach(function (p, i) {
      var fig = document.createElement('figure');
      var img = document.createElement('img');
      img.src = p.thumb; img.alt = '';
      var rm = document.createElement('button');
      rm.type = 'button'; rm.className = 'rp-remove'; rm.textContent = t.remove;
      rm.addEventListener('click', function () { photos.splice(i, 1); drawThumbs(); });
      fig.appendChild(img); fig.appendChild(rm);
      thumbs.appendChild(fig);
    });
    document.body.setAttribute('data-photos', String(photos.length));
  }
  var picker = document.getElementById('rp-photos');
  var photoState = document.getElementById('rp-photo-state');
  var photoSaid = null;  // the last thing said about a photo: cleared once good photos are added
  var shrinking = 0;     // photos being shrunk: the send button waits for them, and says so
  function sayPhoto(text) { photoSaid = text; msg.textContent = text; }
  function busy(n) {
    shrinking += n;
    photoState.textContent = shrinking ? t.processing : '';
    if (document.body.getAttribute('data-stage') !== 'form') return;
    send.disabled = shrinking > 0;
    send.textContent = shrinking ? t.processing : t.send;
  }
  picker.addEventListener('change', function () {
    var files = Array.prototype.slice.call(picker.files || []);
    var refused = photos.length + files.length > cfg.max_photos ? t.too_many : null;
    files = files.slice(0, Math.max(0, cfg.max_photos - photos.length));
    picker.value = '';
    if (photoSaid !== null && msg.textContent === photoSaid) msg.textContent = '';  // a new choice: old words go
    photoSaid = null;
    if (refused) sayPhoto(refused);
    if (!files.length) return;
    busy(files.length);
    files.reduce(function (chain, file) {
      return chain.then(function () { return shrink(file); }).then(function (got) {
        var small = document.createElement('canvas');
        var k = 160 / Math.max(got.canvas.width, got.canvas.height);
        small.width = Math.round(got.canvas.width * k); small.height = Math.round(got.canvas.height * k);
        small.getContext('2d').drawImage(got.canvas, 0, 0, small.width, small.height);
        photos.push({blob: got.blob, thumb: small.toDataURL('image/jpeg', 0.7), width: got.canvas.width,
                     height: got.canvas.height});
        drawThumbs();
      }, function (e) { sayPhoto(e.message); }).then(function () { busy(-1); });
    }, Promise.resolve());
  });
  function upload(tracking, challenge) {  // one after another: the server counts them in order
    return photos.reduce(function (chain, p, i) {
      return chain.then(function () {
        var body = new FormData();
        body.append('challenge', challenge);
        body.append('file', p.blob, 'photo' + (i + 1) + '.jpg');
        return fetch('/api/public/reports/' + encodeURIComponent(tracking) + '/photos', {method: 'POST', body: body})
          .then(function (r) { if (!r.ok) return r.json().then(function (b) { throw refused(r, b); }); });
      });
    }, Promise.resolve());
  }

  // The description's length as the resident types or pastes: counted, and said when past the limit (the
  // server refuses longer ones), never cut silently.
  var count = document.getElementById('rp-count');
  function counted() {
    var n = form.description.value.length, max = cfg.description_max;
    count.textContent = t.count.replace('{n}', n).replace('{max}', max);
    count.className = n > max ? 'rp-count tr-error' : 'rp-count';
    return n <= max;
  }
  form.description.addEventListener('input', function () {
    var fits = counted();
    if (!fits) msg.textContent = t.too_long.replace('{n}', form.description.value.length).replace('{max}', cfg.description_max);
    else if (msg.textContent.indexOf(t.too_long.split('{')[0]) === 0) msg.textContent = '';
  });

  function fields() {
    var picked = form.querySelector('input[name=category]:checked');
    return {category: picked ? picked.value : '', description: form.description.value.trim() || null,
            phone: form.phone.value.trim() || null, website: form.website.value || null};
  }
  function reportOf(f) {  // what is sent, but the challenge
    return {lon: place.lon, lat: place.lat, crs: place.crs, category: f.category, description: f.description,
            phone: f.phone, website: f.website};
  }
  function api(method, url, body) {
    var init = {method: method, headers: {'Accept': 'application/json'}};
    if (body) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw refused(r, b); return b; });
    });
  }
  function refused(r, b) {  // an API refusal: its words ("field: reason"), status and Retry-After
    var e = new Error(b.detail || r.status);
    e.status = r.status;
    e.retry = Number(r.headers.get('Retry-After')) || 0;
    return e;
  }
  // A refusal in the resident's words, by the field the API names (the API speaks English); else null.
  function said(e) {
    var detail = String(e.message || e);
    if (e.status === 429) return t.refused.too_often.replace('{m}', Math.max(1, Math.ceil((e.retry || 60) / 60)));
    if (e.status === 413) return t.refused.too_large;
    var field = detail.split(':')[0];
    if (field === 'lon/lat') return t.outside;  // outside every area of the city: move the marker
    return t.refused[field] || null;
  }
  function fail(e) {
    stage('form'); send.disabled = false;
    msg.textContent = said(e) || t.failed + (e.message || e);
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = fields();
    if (!place) { msg.textContent = t.need_place; return; }
    if (!f.category) { msg.textContent = t.need_category; return; }
    if (!counted()) { msg.textContent = t.too_long.replace('{n}', form.description.value.length).replace('{max}', cfg.description_max); form.description.focus(); return; }
    if (shrinking) { msg.textContent = t.processing; return; }
    // The server's rule for a number (layers/workflow/phones.py PATTERN, in the page's config), said before
    // anything is sent; the number as the server reads it (full-width digits and brackets as ASCII).
    if (f.phone && !new RegExp(cfg.phone_pattern).test(f.phone.normalize('NFKC').trim())) { msg.textContent = t.refused.phone; form.phone.focus(); return; }
    send.disabled = true;
    msg.textContent = '';
    // Sent already, its answer lost: send it again as it was (not a supporter of itself after the nearby check).
    if (solved && solved.report === JSON.stringify(reportOf(f))) { submit(); return; }
    var q = '?lon=' + place.lon + '&lat=' + place.lat + '&crs=' + place.crs + '&category=' + encodeURIComponent(f.category);
    api('GET', '/api/public/nearby' + q).then(function (found) {
      if (!found.joins) return submit();
      showNearby(found.items);
    }).catch(fail);
  });
  function showNearby(items) {
    var ul = nearbyBox.querySelector('ul');
    ul.textContent = '';
    items.forEach(function (it) {
      var li = document.createElement('li');
      li.textContent = t.nearby_item.replace('{status}', cfg.statuses[it.status] || it.status)
        .replace('{d}', Math.round(it.distance_m))
        .replace('{n}', it.supporters);
      ul.appendChild(li);
    });
    nearbyBox.hidden = false;
    send.hidden = true;
    stage('nearby');
    nearbyBox.scrollIntoView();
  }
  document.getElementById('rp-join').addEventListener('click', function () {
    nearbyBox.hidden = true; send.hidden = false; submit();
  });
  document.getElementById('rp-back').addEventListener('click', function () {
    nearbyBox.hidden = true; send.hidden = false; send.disabled = false; stage('form');
  });

  // The last challenge solved and the report it was solved for: the same report sent again (its answer was lost
  // on a bad network) goes with it, and the server answers the same tracking number rather than file it twice.
  var solved = null;
  function solvedFor(report) {
    var same = JSON.stringify(report);
    if (solved && solved.report === same) return Promise.resolve(solved);
    return api('GET', '/api/public/challenge').then(function (ch) {
      return solve(ch.challenge, ch.bits).then(function (nonce) {
        solved = {report: same, challenge: ch.challenge, nonce: nonce};
        return solved;
      });
    });
  }

  function submit() {
    stage('solving');
    send.disabled = true;
    send.textContent = t.solving;
    var report = reportOf(fields());
    var challenge = null;
    return solvedFor(report).then(function (s) {
      challenge = s.challenge;
      return api('POST', '/api/public/reports', Object.assign({challenge: s.challenge, nonce: s.nonce}, report));
    }).then(function (made) {
      // The challenge is the report's key (only this client has it): the tracking page gets it in the fragment,
      // which no browser sends to a server, to show the reporter's own text and the rating form.
      var go = function () {
        window.location.href = cfg.track + encodeURIComponent(made.tracking) + cfg.query + '#k=' + encodeURIComponent(challenge);
      };
      stage('sent');
      send.textContent = t.sent;
      // The report is made: a photo that fails is said, and the tracking page opens all the same.
      return upload(made.tracking, challenge).then(go, function (e) {
        msg.textContent = t.photo_failed + (said(e) || e.message || e);
        setTimeout(go, 2500);
      });
    }).catch(function (e) {
      if (/^(challenge|nonce):/.test(String(e.message))) solved = null;  // expired or spent: a new one next time
      send.textContent = t.send; fail(e);
    });
  }

  // sha256(challenge + ':' + nonce) must start with `bits` zero bits (layers/workflow/public.py pow_ok).
  function zeroBits(d, bits) {
    for (var i = 0; bits > 0; i++, bits -= 8) {
      var mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
      if (d[i] & mask) return false;
    }
    return true;
  }
  function solve(challenge, bits) {
    var subtle = window.crypto && window.crypto.subtle;
    var enc = new TextEncoder();
    var n = 0;
    return new Promise(function (done, failed) {
      function batchSubtle() {  // many digests at once: subtle is asynchronous
        var start = n, jobs = [];
        for (var i = 0; i < 512; i++) jobs.push(subtle.digest('SHA-256', enc.encode(challenge + ':' + (start + i))));
        n += 512;
        Promise.all(jobs).then(function (ds) {
          for (var i = 0; i < ds.length; i++) if (zeroBits(new Uint8Array(ds[i]), bits)) return done(String(start + i));
          batchSubtle();
        }, failed);
      }
      function batchJs() {  // the bundled SHA-256, in slices so the page stays responsive
        for (var end = n + 2000; n < end; n++) if (zeroBits(window.hmSha256(challenge + ':' + n), bits)) return done(String(n));
        setTimeout(batchJs, 0);
      }
      if (subtle) batchSubtle(); else batchJs();
    });
  }
  window.hmSolve = solve;  // for the browser test of both hashes
})();
