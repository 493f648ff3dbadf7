/* hygiene-map analysis pages (/map/coverage, /map/hotspots; analysis-ranks.js adds density and priority):
 * fetch the analysis GeoJSON from the app's own API, colour it and write a legend that names the rule or the statistic.
 * window.hygieneAnalysisState tells the page tests when it has drawn, and what.
 */
(function () {
  "use strict";
  var state = window.hygieneAnalysisState = { ready: false, features: 0, gaps: 0, errors: [], bins: {} };

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmt(v, d) { return v === null || v === undefined ? "—" : Number(v).toFixed(d === undefined ? 1 : d); }
  // A rate (per km², per 10,000 residents) to 3 significant figures, at least 1 decimal and at most 6, a true zero
  // as 0: a sparse district's 0.0041 toilets per km² is not 0.0 (layers/analysis/encode.py rate_figure says it so).
  function rate(v) {
    if (v === null || v === undefined) return "—";
    if (Number(v) === 0) return "0";
    var d = Math.min(6, Math.max(1, 2 - Math.floor(Math.log10(Math.abs(v)))));
    return Number(v).toLocaleString("en", { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  // A share, or a bare dash where it is unknown (a city without population): "— %" read as a broken figure.
  function pct(v) { return v === null || v === undefined ? "—" : fmt(v) + " %"; }
  // Walking asked in a city without roads falls back to the straight line: the legend says so, as the CLI does.
  function methodKey(fc) { return fc.method_key === "straight" && fc.method_asked === "walk" ? "straight_no_roads" : fc.method_key; }

  // Where the analysis is drawn: WGS84 as stored, or shifted to GCJ-02 over Gaode's tiles (init sets it from the
  // page's basemap); a tap or a drag on the map is taken back to WGS84 before it is sent.
  var geo = {
    gcj: false,
    toMap: function (lon, lat) {
      if (!geo.gcj) return L.latLng(lat, lon);
      var g = window.hygieneMap.wgs84ToGcj02(lon, lat);
      return L.latLng(g[1], g[0]);
    },
    fromMap: function (ll) {  // GCJ-02 -> WGS84 by fixed-point iteration (sub-metre after a few steps)
      if (!geo.gcj) return { lon: ll.lng, lat: ll.lat };
      var lon = ll.lng, lat = ll.lat;
      for (var i = 0; i < 4; i++) {
        var g = window.hygieneMap.wgs84ToGcj02(lon, lat);
        lon -= g[0] - ll.lng; lat -= g[1] - ll.lat;
      }
      return { lon: lon, lat: lat };
    }
  };

  // The legend folds to its title (a tap on it): on a phone the map keeps the screen.
  function legendControl(map, html) {
    var ctl = L.control({ position: "bottomright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "hm-legend leaflet-control");
      div.innerHTML = "<details class='hm-legend-fold' open>" +
        html.replace(/^<b>(.*?)<\/b>/, "<summary><b>$1</b></summary>") + "</details>";
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(map);
    return ctl;
  }
  function swatch(colour, label) {
    return '<div><i style="display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:middle;' +
      "background:" + colour + '"></i>' + esc(label) + "</div>";
  }
  // No data is grey and hatched, unlike any judged colour: a layer never imported is not a city of gaps, nor of
  // areas below a density band. One rule for every page that counts facilities (coverage, density): the answer's
  // ``facilities`` is false when none of the kind is in the data (layers/analysis/coverage.py facility_warning).
  var NO_DATA = "#bdbdbd";
  var NO_DATA_STYLE = { color: "#777", weight: 1, dashArray: "4 3", fillColor: NO_DATA, fillOpacity: 0.45 };
  function noData(fc) { return fc.facilities === false; }
  function noDataSwatch(label) {
    return swatch("repeating-linear-gradient(45deg," + NO_DATA + " 0 3px,#fff 3px 6px)", label);
  }
  // What the status bar at the top says of a layer with no data: the answer's reason, else 无数据.
  function noDataLine(cfg, fc) { return fc.warning || cfg.text.no_data; }

  function drawCoverage(map, cfg, fc) {
    var T = cfg.text, classes = cfg.coverage_classes;
    function colourOf(p) {
      for (var i = 0; i < classes.length; i++) if (p >= classes[i][0]) return classes[i][1];
      return classes[classes.length - 1][1];
    }
    var areas = { type: "FeatureCollection", features: [] }, gaps = { type: "FeatureCollection", features: [] };
    fc.features.forEach(function (f) { (f.properties.feature_type === "gap" ? gaps : areas).features.push(f); });
    // Each area's layers by code: the what-if planner (whatif.js) restyles the areas a draft changes.
    var byCode = {}, gapByCode = {};
    function popup(p) {
      return "<b>" + esc(p.name) + "</b> (" + esc(p.code) + ")<br>" + esc(T.covered) + ": " +
        pct(p.covered_area_pct) + "<br>" + esc(T.population) + ": " + pct(p.covered_pop_pct);
    }
    var empty = noData(fc);  // none of the kind in the data: nothing to judge, nothing is a gap
    state.noData = empty;
    var areaLayer = L.geoJSON(areas, {
      style: function (f) {
        if (empty) return NO_DATA_STYLE;
        return { color: "#555", weight: 1, fillColor: colourOf(f.properties.covered_area_pct), fillOpacity: 0.55 };
      },
      onEachFeature: function (f, layer) {
        byCode[f.properties.code] = layer;
        layer.bindPopup(popup(f.properties));
      }
    }).addTo(map);
    var gapStyle = { color: "#b2182b", weight: 1, fillColor: "#b2182b", fillOpacity: 0.35 };
    if (empty) gaps.features = [];
    var gapLayer = L.geoJSON(gaps, { style: gapStyle, interactive: false,
                                     onEachFeature: function (f, layer) { gapByCode[f.properties.code] = layer; }
                                   }).addTo(map);
    // Not in hygieneAnalysisState: layers do not serialise (the page tests read that state by value).
    var layers = window.hygieneCoverageLayers = { areas: byCode, gaps: gapByCode, gapLayer: gapLayer, gapStyle: gapStyle,
                                                  colourOf: colourOf, popup: popup, summary: fc.summary };
    state.features = areas.features.length;
    state.gaps = gaps.features.length;
    var rule = fc.rule ? T.rule + ": " + fc.rule.text : T.no_rule + " (" + fc.radius_m + " m)";
    var html = "<b>" + esc(T.legend) + "</b><div class='hm-rule'>" + esc(rule) + "</div>" +
      "<div>" + esc(T.method) + ": " + esc(T[methodKey(fc)] || fc.method) + "</div>";
    if (empty) html += noDataSwatch(T.no_data);
    else {
      classes.forEach(function (c, i) {
        var upper = i === 0 ? 100 : classes[i - 1][0];
        html += swatch(c[1], T.covered + " " + c[0] + "–" + upper + " %");
      });
      html += swatch("#b2182b", T.gap);
    }
    // The areas' totals, named by what they add up where they are not the whole city (a few communities drawn).
    html += "<div>" + esc(fc.totals_label || T.summary) + ": " + esc(T.covered) + " " + pct(fc.summary.covered_area_pct) + ", " +
      esc(T.population) + " " + pct(fc.summary.covered_pop_pct) + "</div>";
    if (fc.warning) html += "<div class='hm-warning'><b>" + esc(fc.warning) + "</b></div>";  // e.g. no facility at all
    legendControl(map, html);
    if (areas.features.length) map.fitBounds(areaLayer.getBounds());
    if (window.hygieneWhatIf && cfg.whatif) window.hygieneWhatIf.start(map, cfg, layers);
    // A layer with no data at all is said at the top, not only in the legend's last line.
    if (empty) return noDataLine(cfg, fc);
  }

  function drawHotspots(map, cfg, fc) {
    var T = cfg.text, colours = cfg.bin_colours;
    var layer = L.geoJSON(fc, {
      style: function (f) {
        var b = f.properties.gi_bin;
        return { color: b === 0 ? "#ccc" : colours[b], weight: b === 0 ? 0.3 : 0.6, fillColor: colours[b],
                 fillOpacity: b === 0 ? 0.15 : 0.7 };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        state.bins[p.gi_bin] = (state.bins[p.gi_bin] || 0) + 1;
        l.bindPopup(esc(T.complaints) + ": " + p.count + "<br>Gi* z = " + fmt(p.gi_z, 2) + "<br>p = " +
          Number(p.gi_p).toExponential(2) + "<br>bin " + p.gi_bin +
          (p.pattern_name ? "<br>" + esc(T.pattern) + ": " + esc(p.pattern_name) : ""));
      }
    }).addTo(map);
    state.features = fc.features.length;
    var html = "<b>" + esc(T.legend) + "</b><div class='hm-rule'>" + esc(T.statistic) + "</div>";
    [[3, 99], [2, 95], [1, 90]].forEach(function (x) {
      html += swatch(colours[x[0]], T.hot + " " + x[1] + " % " + T.confidence + " (+" + x[0] + ")");
    });
    html += swatch(colours[0], T.none);
    [[-1, 90], [-2, 95], [-3, 99]].forEach(function (x) {
      html += swatch(colours[x[0]], T.cold + " " + x[1] + " % " + T.confidence + " (" + x[0] + ")");
    });
    html += "<div>" + fc.summary.cells + " " + esc(T.cells) + ", " + esc(T.cell) + " " + fc.cell_m + " m, " +
      fc.summary.complaints + " " + esc(T.complaints) + "</div>";
    // Rates: whose populations (communities, streets or districts) they are per 10,000 of.
    if (fc.population_note) html += "<div class='hm-rule'>" + esc(fc.population_note) + "</div>";
    if (fc.warning) html += "<div class='hm-warning'><b>" + esc(fc.warning) + "</b></div>";
    legendControl(map, html);
    if (fc.features.length) map.fitBounds(layer.getBounds());
  }

  function init(map, cfg) {
    var status = document.getElementById("hm-status");
    geo.gcj = !!(cfg.basemap && cfg.basemap.crs === "gcj02" && window.hygieneMap);
    // Every GeoJSON layer of the page (areas, gaps, hexagons, grids, a draft's gaps) drawn where the tiles are.
    if (geo.gcj) L.GeoJSON.prototype.options.coordsToLatLng = function (c) { return geo.toMap(c[0], c[1]); };
    if (cfg.bounds) map.fitBounds([[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]]);
    fetch(cfg.url, { headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error((cfg.lang !== "en" && body.detail_zh) || body.detail || ("HTTP " + r.status));
          return body;
        });
      })
      .then(function (fc) {
        // A drawing may answer a line for the status bar: what the map lacks (priority in a city without grids).
        var said = draw[cfg.kind](map, cfg, fc);
        status.textContent = said || "";
        if (said) status.className = "hm-error";
      })
      .catch(function (err) {
        state.errors.push(String(err.message || err));
        status.textContent = String(err.message || err);
        status.className = "hm-error";
      })
      .then(function () { state.ready = true; status.setAttribute("data-ready", "1"); });
  }

  // Each page's drawing by kind; analysis-ranks.js adds its own with the helpers below.
  var draw = { coverage: drawCoverage, hotspots: drawHotspots };
  window.hygieneAnalysis = { init: init, draw: draw,
                             util: { esc: esc, fmt: fmt, rate: rate, legendControl: legendControl, swatch: swatch,
                                     noDataSwatch: noDataSwatch, noData: noData, noDataStyle: NO_DATA_STYLE,
                                     noDataLine: noDataLine, state: state, geo: geo } };
})();
