/* hygiene-map place context for maps without a basemap (the default offline case).
 *
 * Beneath the thematic layers: the city's own roads and street / community outlines as vector
 * tiles from /tiles (simplified per zoom by PostGIS), and the names of districts, streets,
 * communities and (at street zooms) roads as label points from /api/context/labels for the
 * current view. Nothing is embedded in the page and nothing comes from another host.
 */
(function () {
  "use strict";

  var state = window.hygieneContextState = { labels: 0, kinds: {}, ready: false, errors: [] };

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var ROAD_WEIGHT = { "快速路": 4, "主干路": 3, "次干路": 2, "支路": 1.2, "背街小巷": 1 };
  var AREA_STYLE = {
    district: { color: "#555", weight: 2.4, opacity: 0.8 },
    street: { color: "#777", weight: 1.6, opacity: 0.8, dashArray: "6 3" },
    community: { color: "#999", weight: 0.8, opacity: 0.8, dashArray: "2 3" }
  };

  // Where the tiles and names come from: the map pages' routes, or the public channel's (cfg.tilesUrl,
  // cfg.labelsUrl: /report works for a resident without a token when reads need one).
  var urls = { tiles: "/tiles/", labels: "/api/context/labels" };

  function tiles(map, id, style) {
    var styles = {};
    styles[id] = function (props, zoom) { return style(props, zoom); };
    return L.vectorGrid.protobuf(urls.tiles + id + "/{z}/{x}/{y}.pbf", {
      pane: "hm-context", rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 19, maxZoom: 22,
      vectorTileLayerStyles: styles
    }).addTo(map);
  }

  // Labels come most important first; one that would overlap a label already shown is hidden.
  function declutter(group) {
    var placed = [];
    group.eachLayer(function (marker) {
      var span = marker.getElement() && marker.getElement().firstChild;
      if (!span) return;
      var r = span.getBoundingClientRect();
      var clash = placed.some(function (p) {
        return r.left < p.right + 2 && r.right > p.left - 2 && r.top < p.bottom + 1 && r.bottom > p.top - 1;
      });
      if (clash) { marker.getElement().style.display = "none"; } else { placed.push(r); }
    });
  }

  function init(map, cfg) {
    urls = { tiles: cfg.tilesUrl || urls.tiles, labels: cfg.labelsUrl || urls.labels };
    map.createPane("hm-context").style.zIndex = 250;  // under folium's overlays (400) and map.js' panes (350+)
    var labelPane = map.createPane("hm-context-labels");
    labelPane.style.zIndex = 450;  // names over the thematic fills, under markers and popups
    labelPane.style.pointerEvents = "none";
    if (cfg.roads) {
      tiles(map, "roads", function (p) {
        return { color: p["class"] === "背街小巷" ? "#c7a27c" : "#b8b8b8", weight: ROAD_WEIGHT[p["class"]] || 1.2,
                 opacity: 0.9 };
      });
    }
    if (cfg.outlines) {
      tiles(map, "admin_areas", function (p) {
        var s = AREA_STYLE[p.level] || AREA_STYLE.community;
        return { color: s.color, weight: s.weight, opacity: s.opacity, dashArray: s.dashArray, fill: false };
      });
    }
    var labels = L.layerGroup().addTo(map);
    var pending = null;

    function load() {
      if (pending) pending.abort();
      pending = new AbortController();
      var b = map.getBounds(), clamp = function (v, lo, hi) { return Math.max(lo, Math.min(hi, v)); };
      var bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180),
                  clamp(b.getNorth(), -90, 90)].map(function (v) { return v.toFixed(6); }).join(",");
      var url = urls.labels + "?" + new URLSearchParams({ bbox: bbox, zoom: Math.round(map.getZoom()),
                                                               lang: cfg.lang });
      state.ready = false;
      fetch(url, { signal: pending.signal }).then(function (r) {
        if (!r.ok) throw new Error(url + ": HTTP " + r.status);
        return r.json();
      }).then(function (fc) {
        labels.clearLayers();
        var kinds = {};
        fc.features.forEach(function (f) {
          var c = f.geometry.coordinates, kind = f.properties.kind;
          kinds[kind] = (kinds[kind] || 0) + 1;
          L.marker([c[1], c[0]], {
            pane: "hm-context-labels", interactive: false, keyboard: false,
            icon: L.divIcon({ className: "hm-label hm-label-" + kind, iconSize: null,
                              html: "<span>" + esc(f.properties.name) + "</span>" })
          }).addTo(labels);
        });
        declutter(labels);
        state.labels = fc.features.length;
        state.kinds = kinds;
        state.ready = true;
        map.fire("hmcontextlabels");  // a page with labels of its own (the grid page) makes these yield to them
      }).catch(function (e) {
        if (e.name !== "AbortError") { state.errors.push(String(e)); state.ready = true; }
      });
    }
    map.on("moveend", load);
    map.whenReady(load);
  }

  window.hygieneContext = { init: init };
})();
