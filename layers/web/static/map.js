/* hygiene-map overview map: loads every layer for the current view from the app's own API.
 *
 * Layers come by URL, never embedded: GeoJSON from /api/layers/{id}/features (bbox-limited),
 * vector tiles from /tiles/{id}/{z}/{x}/{y}.pbf, heatmap cells from /api/layers/{id}/heat.
 * Each layer's spec says which of these to use at which zoom (heat, hex, cluster, tiles, geojson).
 * On the Gaode basemap (GCJ-02) every overlay is shifted to GCJ-02 here, with the published
 * WGS84 -> GCJ-02 formula, and tile layers are loaded as GeoJSON so they can be shifted too.
 */
(function () {
  "use strict";

  // ---- WGS84 -> GCJ-02 (Krasovsky ellipsoid; the published formula) -------------------------
  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323;
  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function dLatRaw(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function dLonRaw(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    var dLat = dLatRaw(lon - 105, lat - 35), dLon = dLonRaw(lon - 105, lat - 35);
    var radLat = lat / 180 * Math.PI, magic = 1 - GCJ_EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180) / (GCJ_A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lon + dLon, lat + dLat];
  }

  // ---- state the page (and its browser tests) can read ----------------------------------------
  var state = window.hygieneMapState = { pending: 0, drawn: {}, errors: [], ready: false, modes: {} };

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // A time as "2026-11-30 13:05" in the city's zone (sv-SE writes ISO order), as the tracking page shows it.
  // A tile carries a time as seconds since 1970 (MVT has no time type), GeoJSON as ISO 8601 text.
  function timeText(v, zone) {
    var d = new Date(typeof v === "number" ? v * 1000 : v);
    if (isNaN(d.getTime())) return String(v);
    try {
      return new Intl.DateTimeFormat("sv-SE", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
                                                hour: "2-digit", minute: "2-digit", hour12: false }).format(d);
    } catch (e) {
      return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    }
  }

  function init(map, cfg) {
    var T = cfg.text, gaode = cfg.basemap === "gaode";
    var filters = { since: "", until: "", category: "", status: "" };
    var statusEl = document.getElementById("hm-status");
    var toLatLng = gaode
      ? function (c) { var g = wgs84ToGcj02(c[0], c[1]); return L.latLng(g[1], g[0]); }
      : function (c) { return L.latLng(c[1], c[0]); };

    map.createPane("hm-areas").style.zIndex = 350;
    map.createPane("hm-lines").style.zIndex = 380;
    map.createPane("hm-points").style.zIndex = 420;

    function paneOf(spec) {
      return spec.geometry === "Point" ? "hm-points" : spec.geometry === "LineString" ? "hm-lines" : "hm-areas";
    }
    function colorOf(spec, props) {
      var v = spec.style_column ? props[spec.style_column] : null;
      return (v !== null && v !== undefined && spec.colors[v]) || spec.color;
    }
    function pathStyle(spec, props) {
      var color = colorOf(spec, props);
      // A trail or park not in service (shut for works): grey dashes, white inside, as the printed sheet draws it.
      if (props.in_service === false) return { color: "#999", weight: 2, dashArray: "4 6", fill: true, fillColor: "#fff", fillOpacity: 0.5 };
      switch (spec.id) {
        case "admin_areas":
          var w = { district: 2.5, street: 1.5, community: 0.6 }[props.level] || 1;
          return { color: color, weight: w, fill: false, dashArray: props.level === "community" ? "3 3" : null };
        case "roads":
          return { color: color, weight: { "快速路": 4, "主干路": 3, "次干路": 2 }[props["class"]] || 1.2, opacity: 0.9 };
        case "land_use":
          return { stroke: false, fill: true, fillColor: color, fillOpacity: 0.35 };
        case "grids":
          return { color: color, weight: 0.8, fill: true, fillOpacity: 0.03 };
        default:
          return { color: color, weight: 2, fill: true, fillColor: color, fillOpacity: 0.35 };
      }
    }
    function pointStyle(spec, props) {
      var color = colorOf(spec, props);
      // A facility not in service (closed, under construction) is drawn hollow: on the map, out of every count.
      if (props.in_service === false) return { radius: 5, color: color, weight: 2, fillColor: "#fff", fillOpacity: 0.9 };
      return { radius: spec.id === "complaints" ? 4 : 5, color: "#fff", weight: 1, fillColor: color, fillOpacity: 0.9 };
    }
    function hexStyle(count) {
      var ramp = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"];
      var i = count >= 1000 ? 4 : count >= 200 ? 3 : count >= 50 ? 2 : count >= 10 ? 1 : 0;
      return { fill: true, fillColor: ramp[i], fillOpacity: 0.55, color: "#fff", weight: 0.5 };
    }
    function fmt(v, isTime) {
      if (v === null || v === undefined || v === "") return "—";
      if (v === true) return T.yes;
      if (v === false) return T.no;
      if (isTime || (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v))) return esc(timeText(v, cfg.time_zone));
      return esc(v);
    }
    function popupHtml(spec, props) {
      var rows = spec.popup.filter(function (f) {
        return !(f[2] && props[f[0]] == null);  // a personal value withheld for this row: no empty line
      }).map(function (f) {
        return "<tr><th>" + esc(f[1]) + "</th><td>" + fmt(props[f[0]], f[3]) + "</td></tr>";
      });
      if (props.count !== undefined) rows.unshift("<tr><th>" + esc(T.count) + "</th><td>" + props.count + "</td></tr>");
      return '<div class="hm-popup"><b>' + esc(spec.name) + "</b><table>" + rows.join("") + "</table></div>";
    }

    function query(spec, extra) {
      var params = new URLSearchParams(extra || {});
      if (cfg.street) params.set("street", cfg.street.code);
      if (spec.filters) {
        Object.keys(filters).forEach(function (k) { if (filters[k]) params.set(k, filters[k]); });
      }
      var s = params.toString();
      return s ? "?" + s : "";
    }
    function bboxParam() {
      var b = map.getBounds().pad(0.1), sw = b.getSouthWest(), ne = b.getNorthEast();
      var clamp = function (v, lo, hi) { return Math.max(lo, Math.min(hi, v)); };
      var pad = gaode ? 0.01 : 0; // GCJ-02 view vs WGS84 data: a margin wider than the shift
      return [clamp(sw.lng - pad, -180, 180), clamp(sw.lat - pad, -90, 90),
              clamp(ne.lng + pad, -180, 180), clamp(ne.lat + pad, -90, 90)].map(function (v) { return v.toFixed(6); }).join(",");
    }

    function modeAt(spec, z) {
      var mode = spec.display[spec.display.length - 1].mode;
      spec.display.forEach(function (d) { if (z >= d.min && z <= d.max) mode = d.mode; });
      if (gaode) mode = { tiles: "geojson", hex: "heat" }[mode] || mode;
      return mode;
    }

    function settle() {
      if (state.pending === 0) {
        state.ready = true;
        statusEl.setAttribute("data-ready", "1");
        statusEl.setAttribute("data-drawn", JSON.stringify(state.drawn));
        statusEl.textContent = "";
      } else {
        statusEl.setAttribute("data-ready", "0");
        statusEl.textContent = T.loading;
      }
    }
    function track(promise) {
      state.pending += 1; settle();
      return promise.then(function (v) { state.pending -= 1; settle(); return v; },
        function (err) {
          state.pending -= 1;
          if (!err || err.name !== "AbortError") { state.errors.push(String(err)); console.error(err); }
          settle();
        });
    }

    function vectorLayer(entry, mode) {
      var spec = entry.spec, styles = {};
      styles[spec.id] = function (props, zoom, dim) {
        if (mode === "hex") return hexStyle(props.count);
        if (dim === 1 || spec.geometry === "Point") {
          var p = pointStyle(spec, props);
          return { radius: zoom < 13 ? 2.5 : p.radius, fill: true, fillColor: p.fillColor, fillOpacity: 0.9,
                   color: p.color, weight: zoom < 13 ? 0 : 1 };
        }
        return pathStyle(spec, props);
      };
      var url = "/tiles/" + spec.id + "/{z}/{x}/{y}.pbf" + query(spec);
      var layer = L.vectorGrid.protobuf(url, {
        vectorTileLayerStyles: styles, interactive: true, rendererFactory: L.canvas.tile,
        pane: mode === "hex" ? "hm-areas" : paneOf(spec), maxNativeZoom: 19, maxZoom: 22,
      });
      layer.on("click", function (e) {
        L.popup().setLatLng(e.latlng).setContent(popupHtml(spec, e.layer.properties || {})).openOn(map);
      });
      state.drawn[spec.id] = state.drawn[spec.id] || 0;
      var busy = false;
      function done() { if (busy) { busy = false; state.pending -= 1; settle(); } }
      layer.on("loading", function () { if (!busy) { busy = true; state.pending += 1; settle(); } });
      layer.on("tileload", function () { state.drawn[spec.id] = (state.drawn[spec.id] || 0) + 1; });
      layer.on("load", done);
      layer.on("remove", done);
      return layer;
    }

    function dataLayer(entry, mode, data) {
      var spec = entry.spec;
      if (mode === "heat") {
        var pts = data.cells.map(function (c) { var ll = toLatLng([c[1], c[0]]); return [ll.lat, ll.lng, c[2]]; });
        state.drawn[spec.id] = pts.length;
        // Scale to the 90th percentile of the cells, so one extreme cell does not wash out the rest.
        var counts = data.cells.map(function (c) { return c[2]; }).sort(function (a, b) { return a - b; });
        var p90 = counts.length ? counts[Math.floor(0.9 * (counts.length - 1))] : 1;
        // maxZoom = this zoom: Leaflet.heat would otherwise divide every count by 2^(maxZoom - zoom).
        return L.heatLayer(pts, { radius: 16, blur: 14, max: Math.max(1, p90), minOpacity: 0.25, maxZoom: map.getZoom() });
      }
      var geo = L.geoJSON(data, {
        coordsToLatLng: toLatLng,
        pane: paneOf(spec),
        // Leaflet applies style to point markers too: a point keeps its own (a closed facility hollow).
        style: function (f) { return (f.geometry.type === "Point" ? pointStyle : pathStyle)(spec, f.properties); },
        pointToLayer: function (f, ll) { return L.circleMarker(ll, L.extend(pointStyle(spec, f.properties), { pane: paneOf(spec) })); },
        onEachFeature: function (f, layer) { layer.bindPopup(function () { return popupHtml(spec, f.properties); }); },
      });
      state.drawn[spec.id] = data.features.length;
      if (data.nextOffset !== undefined) statusEl.setAttribute("data-truncated-" + spec.id, String(data.numberReturned));
      if (mode === "cluster") {
        var cluster = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 45, disableClusteringAtZoom: 19 });
        cluster.addLayer(geo);
        return cluster;
      }
      return geo;
    }

    function replace(entry, layer, mode, key) {
      entry.container.clearLayers();
      entry.container.addLayer(layer);
      entry.mode = mode; entry.key = key;
      state.modes[entry.spec.id] = mode;
    }

    function refresh(entry) {
      if (!map.hasLayer(entry.container)) return;
      var spec = entry.spec, z = map.getZoom(), mode = modeAt(spec, z);
      if (mode === "tiles" || mode === "hex") {
        var key = mode + query(spec);
        if (entry.mode !== mode || entry.key !== key) replace(entry, vectorLayer(entry, mode), mode, key);
        return;
      }
      if (entry.abort) entry.abort.abort();
      var ctrl = entry.abort = new AbortController();
      var url = mode === "heat"
        ? "/api/layers/" + spec.id + "/heat" + query(spec, { bbox: bboxParam(), zoom: z })
        : "/api/layers/" + spec.id + "/features" + query(spec, { bbox: bboxParam(), limit: cfg.limit });
      track(fetch(url, { signal: ctrl.signal }).then(function (r) {
        if (!r.ok) return r.json().then(function (b) {  // in the page's language where the answer has it
          throw new Error(spec.id + ": " + ((cfg.lang !== "en" && b.detail_zh) || b.detail || r.status));
        });
        return r.json();
      }).then(function (data) {
        if (ctrl.signal.aborted) return;
        replace(entry, dataLayer(entry, mode, data), mode, url);
      }));
    }

    // ---- layers, layer control, legend ------------------------------------------------------
    var entries = cfg.layers.map(function (spec) { return { spec: spec, container: L.layerGroup(), mode: null }; });
    var overlays = {};
    entries.forEach(function (e) {
      var swatch = '<span class="hm-swatch" style="background:' + e.spec.legend[0].color + '"></span>';
      overlays[swatch + esc(e.spec.name)] = e.container;
      if (e.spec.shown) e.container.addTo(map);
    });
    // A phone's screen has no room for the open list, the filters and the minimap beside the map: the list is its
    // button, the filters fold to their title and the minimap to its corner button (a tap opens each).
    var phone = window.matchMedia("(max-width: 600px)").matches;
    var layersControl = L.control.layers(null, overlays, { collapsed: phone, position: "topright" }).addTo(map);
    // Leaflet's toggle says "Layers" whatever the page: in the page's language.
    layersControl.getContainer().querySelector(".leaflet-control-layers-toggle").title = T.layers;

    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      this._div = L.DomUtil.create("div", "hm-legend");
      L.DomEvent.disableScrollPropagation(this._div);
      return this._div;
    };
    legend.update = function () {
      var parts = ["<h4>" + esc(T.legend) + "</h4>"];
      entries.forEach(function (e) {
        if (!map.hasLayer(e.container)) return;
        parts.push('<div class="hm-legend-layer">' + esc(e.spec.name) + "</div>");
        if (e.spec.id === "complaints" && (e.mode === "heat" || e.mode === "hex")) {
          parts.push('<div class="hm-legend-row"><span class="hm-ramp"></span>' + esc(e.mode === "heat" ? T.heat : T.hex) + "</div>");
          return;
        }
        e.spec.legend.forEach(function (item) {
          parts.push('<div class="hm-legend-row"><span class="hm-swatch" style="background:' + item.color + '"></span>' + esc(item.label) + "</div>");
        });
        if (e.spec.popup.some(function (f) { return f[0] === "in_service"; })) {
          var point = e.spec.geometry === "Point";
          parts.push('<div class="hm-legend-row hm-legend-closed"><span class="hm-swatch" style="background:#fff;border:2px ' +
                     (point ? "solid #666" : "dashed #999") + '"></span>' + esc(point ? T.not_in_service : T.not_in_service_path) + "</div>");
        }
      });
      this._div.innerHTML = parts.join("");
    };
    legend.addTo(map);

    // ---- complaint filters (time window, category, status) ------------------------------------
    var filterCtl = L.control({ position: "topright" });
    filterCtl.onAdd = function () {
      var div = L.DomUtil.create("details", "hm-filters");
      div.open = !phone;
      var opts = function (items) {
        return '<option value="">' + esc(T.all) + "</option>" + items.map(function (c) {
          return '<option value="' + esc(c[0]) + '">' + esc(c[1]) + "</option>";
        }).join("");
      };
      div.innerHTML = "<summary><h4>" + esc(T.filters) + "</h4></summary>" +
        "<label>" + esc(T.since) + ' <input type="date" name="since"></label>' +
        "<label>" + esc(T.until) + ' <input type="date" name="until"></label>' +
        "<label>" + esc(T.category) + ' <select name="category">' + opts(cfg.categories) + "</select></label>" +
        "<label>" + esc(T.status) + ' <select name="status">' + opts(cfg.statuses) + "</select></label>" +
        '<button type="button">' + esc(T.apply) + "</button>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.querySelector("button").addEventListener("click", function () {
        Object.keys(filters).forEach(function (k) { filters[k] = div.querySelector('[name="' + k + '"]').value; });
        entries.forEach(function (e) { if (e.spec.filters) { e.mode = null; refresh(e); } });
      });
      return div;
    };
    filterCtl.addTo(map);

    // The legend (bottom right) takes the height the right-hand column leaves it, and scrolls within it: on a
    // laptop's screen the layer list and the complaint filters above it fill most of the column.
    function fitLegend() {
      var column = document.querySelector(".leaflet-top.leaflet-right").getBoundingClientRect();
      var div = legend.getContainer(), bottom = div.getBoundingClientRect().bottom;
      div.style.maxHeight = Math.max(60, Math.floor(bottom - column.bottom - 10)) + "px";
    }
    fitLegend();
    map.on("resize", fitLegend);

    // ---- minimap: the city's districts (or the chosen basemap) ---------------------------------
    var miniLayer = cfg.basemap === "none"
      ? L.vectorGrid.protobuf("/tiles/admin_areas/{z}/{x}/{y}.pbf", {
          rendererFactory: L.canvas.tile,
          vectorTileLayerStyles: { admin_areas: function (p) {
            return p.level === "district" ? { color: "#555", weight: 1, fill: true, fillColor: "#ddd", fillOpacity: 0.5 } : [];
          } },
        })
      : L.tileLayer(cfg.basemap_tiles[0], { subdomains: cfg.basemap_tiles[1] });
    new L.Control.MiniMap(miniLayer, { toggleDisplay: true, minimized: phone, position: "bottomleft",
                                          zoomLevelOffset: -4, strings: { hideText: T.hide_minimap,
                                                                            showText: T.show_minimap } }).addTo(map);

    // ---- view and refresh --------------------------------------------------------------------
    var start = (cfg.street && cfg.street.bbox) || cfg.bounds;
    if (start) {
      var sw = toLatLng([start[0], start[1]]), ne = toLatLng([start[2], start[3]]);
      map.fitBounds(L.latLngBounds(sw, ne));
    }
    var timer = null;
    function refreshAll() { entries.forEach(refresh); legend.update(); }
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(refreshAll, 120); });
    map.on("overlayadd overlayremove", function (ev) {
      entries.forEach(function (e) { if (e.container === ev.layer) { e.mode = null; refresh(e); } });
      legend.update();
    });
    refreshAll();
    settle();
  }

  window.hygieneMap = { init: init, wgs84ToGcj02: wgs84ToGcj02, timeText: timeText };
})();
