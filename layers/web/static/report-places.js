/* The report page's places, from the city's own data (no outside geocoder): its facilities drawn as light
   markers with names at street zoom, a place search, the chosen place in words, and the open reports around it
   (pins and a list: category, status, distance, the unit's first photo) before the form is sent.
   window.hmPlaceText(d, words) words a place for this page and the tracking page. */
(function () {
  'use strict';

  function placeText(d, w) {  // {area, near, near_m} in words, or null when the city's data names nothing there
    var area = d.area || '';
    if (d.near) return (d.near_m < 10 ? w.at : w.near).replace('{near}', d.near).replace('{d}', d.near_m).replace('{area}', area).replace(/[，,] $/, '');
    return area || null;
  }
  window.hmPlaceText = placeText;

  var cfgNode = document.getElementById('rp-config');
  if (!cfgNode || !window.hmReportMap) return;  // the tracking page uses placeText only
  var cfg = JSON.parse(cfgNode.textContent), t = cfg.words, map = window.hmReportMap;
  var state = window.hmPlacesState = {facilities: 0, results: null, around: null, described: null};
  var lang = cfg.lang === 'en' ? '&lang=en' : '';
  function get(url) {
    return fetch(url, {headers: {Accept: 'application/json'}}).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw new Error(b.detail || r.status); return b; });
    });
  }

  // Facilities: the city's toilets, markets and garbage points at street zoom (public-map.js, shared with the
  // tracking page's map).
  window.hmPublicMap.facilities(map, cfg, state);

  // The search: the city's areas, facilities (names, addresses) and roads.
  var q = document.getElementById('rp-q'), list = document.getElementById('rp-results');
  function find() {
    var text = q.value.trim();
    if (!text) return;
    get(cfg.places.search + '?q=' + encodeURIComponent(text) + lang).then(function (found) {
      list.textContent = '';
      state.results = found.items.length;
      if (!found.items.length) { var none = document.createElement('li'); none.textContent = t.no_place; list.appendChild(none); }
      found.items.forEach(function (it) {
        var li = document.createElement('li'), b = document.createElement('button');
        b.type = 'button'; b.className = 'rp-result';
        b.textContent = it.name + ' · ' + (t.kinds[it.kind] || it.kind) + (it.address ? ' · ' + it.address : '');
        b.addEventListener('click', function () { go(it); });
        li.appendChild(b); list.appendChild(li);
      });
    }).catch(function (e) { list.textContent = ''; state.results = 0; document.getElementById('rp-msg').textContent = t.failed + e.message; });
  }
  function go(it) {  // an area or road: shown whole; a facility: at street zoom, chosen as the place
    list.textContent = '';
    if (it.bbox && it.kind !== 'toilet' && it.kind !== 'market' && it.kind !== 'garbage') {
      map.fitBounds([[it.bbox[1], it.bbox[0]], [it.bbox[3], it.bbox[2]]], {maxZoom: 17, animate: false});
    } else {
      map.setView([it.lat, it.lon], 17, {animate: false});
    }
    window.hmReportSetPlace(it.lat, it.lon, 'wgs84');
    document.getElementById('rp-map').scrollIntoView();
  }
  document.getElementById('rp-find').addEventListener('click', find);
  q.addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); find(); } });

  // The chosen place: in words, and the open reports around it.
  var pins = L.layerGroup().addTo(map), box = document.getElementById('rp-around'), seq = 0;
  map.on('hmplace', function (e) {
    var p = e.place, n = ++seq, at = '?lon=' + p.lon + '&lat=' + p.lat + '&crs=' + p.crs;
    get(cfg.places.describe + at + lang).then(function (d) {
      if (n !== seq) return;
      var words = placeText(d, t);
      if (words) document.getElementById('rp-place').textContent = t.placed + ': ' + words;
      state.described = words;
    }).catch(function () { /* the coordinates stay */ });
    get(cfg.places.around + at).then(function (found) { if (n === seq) showAround(found.items); })
      .catch(function () { /* the form works without it */ });
  });
  function showAround(items) {
    pins.clearLayers();
    var ul = box.querySelector('ul');
    ul.textContent = '';
    items.forEach(function (it) {
      var label = (cfg.category_labels[it.category] || it.category) + ' · ' + (cfg.statuses[it.status] || it.status) +
                  ' · ' + t.about_m.replace('{d}', it.distance_m);
      var shown = [it.lat, it.lon];
      if (cfg.basemap.crs === 'gcj02') { var g = window.hygieneMap.wgs84ToGcj02(it.lon, it.lat); shown = [g[1], g[0]]; }
      L.circleMarker(shown, {radius: 7, color: '#e65100', weight: 2, fillColor: '#ffb74d', fillOpacity: 0.9,
                             interactive: false}).addTo(pins);
      var li = document.createElement('li');
      if (it.photo) { var img = document.createElement('img'); img.src = it.photo; img.alt = ''; li.appendChild(img); }
      li.appendChild(document.createTextNode(label));
      ul.appendChild(li);
    });
    box.querySelector('p').textContent = items.length ? t.around : t.around_none;
    box.hidden = false;
    state.around = items.length;
  }
})();
