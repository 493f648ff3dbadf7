/* The public pages' map, written once (layers/web/public_map.py): the report page's (/report) and the tracking
   page's small one (/report/{tracking}). The configured basemap's tiles, or, offline, the city's own roads,
   outlines and names through the public channel (static/app/context.js): its outlines and names over a WGS84
   basemap, nothing of it over Gaode's GCJ-02 tiles, where they would sit some hundred metres off.
   window.hmPublicMap(element, cfg, options, bounds): the Leaflet map; cfg = {lang, basemap, context}.
   window.hmPublicMap.shown(lat, lon, basemap): where a WGS84 point is drawn on that basemap ([lat, lon]).
   window.hmPublicMap.facilities(map, cfg, state): the city's toilets, markets and garbage points by name from
   street zoom (cfg.places), counted in state.facilities. */
(function () {
  'use strict';
  function publicMap(element, cfg, options, bounds) {
    var map = L.map(element, options);
    if (bounds) map.fitBounds(bounds);  // before the city's names are asked for, so they are asked once
    var base = cfg.basemap;
    base.layers.forEach(function (layer) {
      L.tileLayer(layer.url, {subdomains: layer.subdomains, attribution: layer.attr, maxZoom: 20,
                              maxNativeZoom: layer.max_zoom}).addTo(map);
    });
    if (base.crs === 'wgs84') {
      window.hygieneContext.init(map, {lang: cfg.lang, outlines: true, roads: !base.layers.length,
                                       tilesUrl: cfg.context.tiles, labelsUrl: cfg.context.labels});
    }
    return map;
  }
  publicMap.shown = function (lat, lon, base) {
    if (base.crs !== 'gcj02') return [lat, lon];
    var g = window.hygieneMap.wgs84ToGcj02(lon, lat);  // map.js, loaded on a GCJ-02 basemap
    return [g[1], g[0]];
  };

  // Facilities: only on the city's own (WGS84) data; from street zoom, for the view; light markers with names.
  var KIND_ICON = {toilet: 'WC', market: '市', garbage: '垃'};
  publicMap.facilities = function (map, cfg, state) {
    var facilities = L.layerGroup().addTo(map), pending = null;
    function loadFacilities() {
      if (cfg.basemap.crs !== 'wgs84') return;
      var z = Math.round(map.getZoom());
      if (z < cfg.places.facility_zoom) { facilities.clearLayers(); state.facilities = 0; return; }
      if (pending) pending.abort();
      pending = new AbortController();
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); });
      fetch(cfg.places.facilities + '?bbox=' + bbox.join(',') + '&zoom=' + z, {signal: pending.signal})
        .then(function (r) { return r.json(); }).then(function (fc) {
          facilities.clearLayers();
          fc.features.forEach(function (f) {
            var c = f.geometry.coordinates, span = document.createElement('span');
            span.textContent = f.properties.name;  // the city's data, never markup
            var icon = L.divIcon({className: 'rp-fac rp-fac-' + f.properties.kind, iconSize: null,
                                  html: '<i>' + (KIND_ICON[f.properties.kind] || '·') + '</i>' + span.outerHTML});
            L.marker([c[1], c[0]], {icon: icon, interactive: false, keyboard: false,
                                    pane: 'hm-context-labels'}).addTo(facilities);
          });
          state.facilities = fc.features.length;
        }).catch(function () { /* aborted by the next move, or offline: the map stays usable */ });
    }
    map.on('moveend', loadFacilities);
    map.whenReady(loadFacilities);
  };
  window.hmPublicMap = publicMap;
})();
