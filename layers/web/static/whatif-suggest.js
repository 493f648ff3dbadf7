/* hygiene-map 建议选址 (suggest sites) in the what-if panel on /map/coverage: asks the siting analysis
 * (GET /api/analysis/siting, greedy maximum coverage) for up to 20 new sites of the page's kind and radius, in one
 * street (a district in a city of districts only) or the whole city, and hands them to the what-if planner
 * (whatif.js) as draft additions, as if the planner had clicked them: one what-if answer for them all, each
 * draggable, removable and saved with the plan. They are marked as suggested (purple, numbered by the order
 * siting chose them; the popup says 建议 and the demand each newly covers). A refusal (the API's 4xx, a 429 when
 * the server is busy) is said in the panel, in the page's language.
 * window.hygieneWhatIfSuggestState tells the page tests what the last answer said.
 */
(function () {
  "use strict";
  var S = window.hygieneWhatIfSuggestState = { started: false, running: false, answers: 0, errors: [],
                                               sites: [], asked: null, retries: 0 };

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function options(pairs, first) {
    return [["", first]].concat(pairs).map(function (p) {
      return "<option value='" + esc(p[0]) + "'>" + esc(p[1]) + "</option>";
    }).join("");
  }

  // The control's HTML in two rows (the panel shares the map's right side with the legend): how many and where,
  // then what to cover and the button; the message below only once there is something to say.
  function controlHtml(G, T) {
    var areas = G.areas.map(function (a) { return [a.code, a.name]; });
    var objectives = G.objectives.map(function (o) { return [o, T.objectives[o] || o]; });
    return "<div style='margin-top:4px;border-top:1px solid #ddd;padding-top:3px'><b>" + esc(T.title) + "</b> " +
      "<input id='hm-suggest-count' type='number' min='1' max='" + G.max + "' step='1' value='5' " +
      "style='width:3.2em' title='1–" + G.max + "' aria-label='" + esc(T.count) + "'> " + esc(T.unit) + " " +
      "<label>" + esc(T.street) + " <select id='hm-suggest-street' style='max-width:9em'>" +
      options(areas, T.whole_city) + "</select></label><br>" +
      "<label>" + esc(T.objective) + " <select id='hm-suggest-objective' style='max-width:9em'>" +
      options(objectives, T.default) + "</select></label> " +
      "<button type='button' id='hm-suggest-run'>" + esc(T.run) + "</button>" +
      "<div id='hm-suggest-msg'></div></div>";
  }

  // The query of the page's kind and radius and the control's values; ``add`` kept within 1 … max.
  function query(W, G, lang) {
    var n = Math.round(Number(document.getElementById("hm-suggest-count").value));
    n = isFinite(n) ? Math.min(G.max, Math.max(1, n)) : 5;
    document.getElementById("hm-suggest-count").value = n;
    var q = new URLSearchParams({ kind: W.kind, add: n, lang: lang });
    if (W.radius !== null && W.radius !== undefined) q.set("radius", W.radius);
    var street = document.getElementById("hm-suggest-street").value;
    var objective = document.getElementById("hm-suggest-objective").value;
    if (street) q.set("street", street);
    if (objective) q.set("objective", objective);
    return q;
  }

  // A proposed site as whatif.js draws a draft: a purple numbered marker, and what it newly covers in its popup.
  function site(f, measure, T) {
    var p = f.properties, gain = p["new_" + measure];
    var icon = L.divIcon({ className: "hm-draft hm-suggested", iconSize: [22, 22], html: "<div style='width:20px;" +
      "height:20px;border-radius:50%;background:#6a51a3;color:#fff;border:1px solid #fff;" +
      "font:bold 12px/20px sans-serif;text-align:center;box-shadow:0 1px 3px rgba(0,0,0,.5)'>" + esc(p.rank) +
      "</div>" });
    var label = "<div class='hm-suggested-label'><b>" + esc(T.suggested) + " #" + esc(p.rank) + "</b><br>" +
      esc(T["new"][measure] || measure) + ": " +
      (gain === null || gain === undefined ? "—" : Number(gain).toLocaleString(undefined, { maximumFractionDigits: 0 })) +
      "</div>";
    return { lon: p.lon, lat: p.lat, rank: p.rank, gain: gain, icon: icon, label: label };
  }

  // The siting answer; a 429 (the what-if of the draft, or others' costly work, in flight) waited out up to
  // ``tries`` times, as whatif.js waits out its own, then said like any other refusal.
  function ask(url, tries, cfg, refusal) {
    return fetch(url, { headers: { Accept: "application/geo+json" } }).then(function (r) {
      var wait = parseFloat(r.headers.get("Retry-After"));
      if (r.status === 429 && tries > 1) {
        return new Promise(function (done) { setTimeout(done, 1000 * (isFinite(wait) && wait >= 0 ? wait : 2)); })
          .then(function () { S.retries += 1; return ask(url, tries - 1, cfg, refusal); });
      }
      return r.json().catch(function () { return {}; })
        .then(function (b) { if (!r.ok) throw refusal(r, b, cfg.lang); return b; });
    });
  }

  // What the answer added, with siting's covered share of the street asked before → after (the what-if totals
  // below are the city's, and a site near the street's edge also covers some of its neighbour), and its warning.
  function summary(fc, n, T) {
    var b = fc.before && fc.before.pct, a = fc.after && fc.after.pct, share = "";
    if (typeof b === "number" && typeof a === "number") {
      share = T.share.replace("{measure}", T.measures[fc.measure] || fc.measure)
        .replace("{before}", b.toFixed(1)).replace("{after}", a.toFixed(1));
    }
    return (n ? T.added.replace("{n}", n) + share : T.none) + (fc.warning ? " · " + fc.warning : "");
  }

  function start(box, cfg, hooks) {
    var W = cfg.whatif, G = W.suggest, T = G.text;
    box.innerHTML = controlHtml(G, T);
    var button = document.getElementById("hm-suggest-run"), msg = document.getElementById("hm-suggest-msg");
    S.started = true;
    function say(text) { msg.textContent = text; }
    button.onclick = function () {
      if (S.running) return;
      var q = query(W, G, cfg.lang);
      S.running = true;
      S.asked = q.toString();
      button.disabled = true;
      say(T.running);
      ask(G.url + "?" + q, 3, cfg, hooks.refusal)
        .then(function (fc) {
          var sites = fc.features.map(function (f) { return site(f, fc.measure, T); });
          S.sites = sites.map(function (s) { return { lon: s.lon, lat: s.lat, rank: s.rank, gain: s.gain }; });
          S.measure = fc.measure;
          S.before = fc.before;
          S.after = fc.after;
          S.answers += 1;
          if (sites.length) hooks.add(sites);
          say(summary(fc, sites.length, T));
        })
        .catch(function (err) {
          var text = String(err.message || err);
          S.errors.push(text);
          say(text);
        })
        .then(function () { S.running = false; button.disabled = false; });
    };
  }

  window.hygieneWhatIfSuggest = { start: start };
})();
