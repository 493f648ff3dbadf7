/* hygiene-map density and priority pages (/map/density, /map/priority): the drawings analysis.js calls
 * with the page's GeoJSON. Loaded after analysis.js, only by those two pages.
 * hygieneAnalysisState.fills (area or grid code → the fill drawn) tells the page tests what was drawn.
 */
(function () {
  "use strict";
  var A = window.hygieneAnalysis, U = A.util, esc = U.esc, fmt = U.fmt, rate = U.rate, state = U.state;
  state.fills = {};
  state.statuses = {};

  function nameOf(cfg, p) { return cfg.lang === "en" && p.name_en ? p.name_en : p.name; }
  function line(label, value) { return "<br>" + esc(label) + ": " + esc(value); }
  // Leaflet has styled the layer when onEachFeature runs: its fill is the colour on screen.
  function drawn(layer, code) { state.fills[code] = layer.options.fillColor; }
  // The drawn layer, outside hygieneAnalysisState (layers do not serialise): the page tests open its popups.
  function keep(layer) { window.hygieneAnalysisLayer = layer; return layer; }

  // The legend, no wider than a phone's map minus its margins (on a phone the session bar sits in the title
  // row: map.css, so nothing needs lifting clear of it).
  function legend(map, html) {
    U.legendControl(map, "<div style='max-width:300px'>" + html + "</div>");
  }

  // An area's verdict in words: below / within / above, not judged (no built-up land), or no standard at all.
  function verdict(T, p) { return p.status ? T[p.status] : T.not_judged; }

  function drawDensity(map, cfg, fc) {
    var T = cfg.text, colours = cfg.status_colours, empty = U.noData(fc), s = fc.summary;
    // A verdict is drawn only where one was made: a band applied to some area, and the kind is in the data.
    var judged = !empty && fc.rules && fc.rules.length > 0 && s.below + s.within + s.above > 0;
    function popup(p) {
      var range = p.expected_min === null ? "—" : fmt(p.expected_min) + "–" + fmt(p.expected_max);
      return "<b>" + esc(nameOf(cfg, p)) + "</b> (" + esc(p.code) + ")" + line(T.count, p.count) +
        line(T.per_km2, rate(p.per_km2)) + line(T.per_10k, rate(p.per_10k_residents)) +
        line(T.expected, range) + line(T.status, empty ? T.no_data : verdict(T, p));
    }
    var layer = keep(L.geoJSON(fc, {
      style: function (f) {
        if (empty) return U.noDataStyle;
        return { color: "#555", weight: 1, fillColor: colours[f.properties.status || "none"], fillOpacity: 0.6 };
      },
      onEachFeature: function (f, l) {
        var key = empty ? "no_data" : f.properties.status || "none";
        state.statuses[key] = (state.statuses[key] || 0) + 1;
        drawn(l, f.properties.code);
        l.bindPopup(popup(f.properties));
        l.bindTooltip(esc(nameOf(cfg, f.properties)) + " · " + esc(empty ? T.no_data : verdict(T, f.properties)),
                      { sticky: true });
      }
    }).addTo(map));
    state.features = fc.features.length;
    state.noData = empty;
    var html = "<b>" + esc(T.legend) + "</b>";
    (fc.rules || []).forEach(function (r) { html += "<div class='hm-rule'>" + esc(T.rule + ": " + r.text) + "</div>"; });
    if (fc.band_use) html += "<div class='hm-rule'>" + esc(fc.band_use) + "</div>";
    if (fc.basis_note) html += "<div class='hm-rule'><i>" + esc(fc.basis_note) + "</i></div>";
    if (empty) html += U.noDataSwatch(T.no_data);
    else {
      if (judged) ["below", "within", "above"].forEach(function (k) { html += U.swatch(colours[k], T[k]); });
      if (state.statuses.unjudged) html += U.swatch(colours.unjudged, T.unjudged);
      if (!fc.rules.length || state.statuses.none) html += U.swatch(colours.none, T.not_judged);
    }
    html += "<div>" + esc(T.summary) + ": " + s.areas + " " + esc(T.areas) +
      (judged ? " · " + esc(T.below) + " " + s.below + ", " + esc(T.within) + " " + s.within + ", " + esc(T.above) +
       " " + s.above : "") + (s.unjudged && !empty ? " · " + esc(T.unjudged) + " " + s.unjudged : "") +
      "<br>" + esc(T.count) + " " + s.count.toLocaleString("en") + ", " + esc(T.per_km2) + " " + rate(s.per_km2) +
      ", " + esc(T.per_10k) + " " + rate(s.per_10k_residents) + "</div>";
    if (fc.warning) html += "<div class='hm-warning'><b>" + esc(fc.warning) + "</b></div>";
    legend(map, html);
    if (fc.features.length) map.fitBounds(layer.getBounds());
    // A kind the city has none of is said at the top, as the coverage page says it (analysis.js noData).
    return empty ? U.noDataLine(cfg, fc) : "";
  }

  // The class of a rank: the first whose bound (% of the grids ranked) the rank's place lies under.
  function rankClass(classes, rank, ranked) {
    var share = (rank - 1) / Math.max(ranked, 1) * 100;
    for (var i = 0; i < classes.length; i++) if (share < classes[i][0]) return i;
    return classes.length - 1;
  }

  function drawPriority(map, cfg, fc) {
    var T = cfg.text, classes = cfg.rank_classes, names = cfg.components;
    // No grids to rank: said, not an empty map; in the page's words (no command line), a cached answer's else.
    if (!fc.features.length) return fc.warning_page || fc.warning || "";
    function popup(p) {
      var html = "<b>" + esc(nameOf(cfg, p)) + "</b> (" + esc(p.code) + ")" + line(T.score, fmt(p.score, 1)) +
        line(T.rank, p.rank + " / " + fc.ranked);
      Object.keys(fc.weights).forEach(function (k) {
        var c = p.components[k];
        html += line(names[k], T.value + " " + c.value + " → " + T.weighted + " " + fmt(c.weighted, 1));
      });
      return html;
    }
    var layer = keep(L.geoJSON(fc, {
      style: function (f) {
        var colour = classes[rankClass(classes, f.properties.rank, fc.ranked)][1];
        return { color: "#444", weight: 1, fillColor: colour, fillOpacity: 0.7 };
      },
      onEachFeature: function (f, l) {
        drawn(l, f.properties.code);
        l.bindPopup(popup(f.properties));
        l.bindTooltip(esc(nameOf(cfg, f.properties)) + " · " + esc(T.rank) + " " + f.properties.rank, { sticky: true });
      }
    }).addTo(map));
    state.features = fc.features.length;
    var html = "<b>" + esc(T.legend) + "</b><div class='hm-rule'>" + esc(T.score_rule) + "</div><div>" +
      esc(T.weight) + ": " + Object.keys(fc.weights).map(function (k) {
        return esc(names[k]) + " " + fmt(fc.weights[k], 2);
      }).join(" · ") + "<br><i>" + esc(T.weights_note) + "</i></div>";
    classes.forEach(function (c, i) {
      var label = i === 0 ? T.top_class.replace("{hi}", c[0]) :
        T.rank_class.replace("{lo}", classes[i - 1][0]).replace("{hi}", c[0]);
      html += U.swatch(c[1], label);
    });
    html += "<div>" + esc(T.ranked.replace("{ranked}", fc.ranked).replace("{shown}", fc.features.length)) + "</div>";
    var warning = fc.warning_page || fc.warning;  // e.g. no complaints
    if (warning) html += "<div class='hm-warning'><b>" + esc(warning) + "</b></div>";
    legend(map, html);
    map.fitBounds(layer.getBounds());
    return "";
  }

  A.draw.density = drawDensity;
  A.draw.priority = drawPriority;
})();
