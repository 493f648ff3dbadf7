/* hygiene-map what-if planner on /map/coverage: draft facilities (click to add, drag to move, remove in the
 * popup; existing facilities, shown from zoom 15, moved or removed the same way). After each edit the whole
 * draft goes to POST /api/analysis/coverage/whatif (one at a time: edits made while one is in flight, or while
 * a 429 waits out its Retry-After, coalesce into the next) and the areas it changes are recoloured, their gaps
 * redrawn; nothing is written until the draft is saved as a named plan (POST /api/plans). A saved plan opens
 * again as a draft with ?plan=ID (its facilities from /api/plans/ID/export), to be changed and saved anew: the
 * server sets the page's kind, radius and level to the plan's (cfg.whatif.plan says which plan, and which of
 * the URL's values it replaced) and the export is asked with them, so a plan's ids never land on another layer.
 * window.hygieneWhatIfState tells the page tests what the last answer said.
 */
(function () {
  "use strict";
  var S = window.hygieneWhatIfState = { started: false, edits: 0, answers: 0, pending: false, sent: 0, retries: 0,
                                        areas: {}, before: null, after: null, errors: [], saved: null,
                                        loaded: null, takenBack: 0 };

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmt(v, d) { return v === null || v === undefined ? "—" : Number(v).toFixed(d === undefined ? 1 : d); }
  function num(v) { return v === null || v === undefined ? "—" : Number(v).toLocaleString(); }

  // A refused request as an Error: its message in the page's language (detail_zh on a Chinese page, where the
  // answer has it), its English detail kept as err.detail for the checks that read it.
  function refusal(r, b, lang) {
    var err = new Error((lang !== "en" && b.detail_zh) || b.detail || ("HTTP " + r.status));
    err.detail = b.detail;
    return err;
  }

  function start(map, cfg, cov) {
    var W = cfg.whatif, T = W.text, G = window.hygieneAnalysis.util.geo;  // G: WGS84 <-> the map's CRS
    var drafts = [], existing = {}, changed = {}, csrf = null, addMode = false;
    var draftGaps = L.layerGroup().addTo(map), facilities = L.layerGroup().addTo(map);
    var draftIcon = L.divIcon({ className: "hm-draft", iconSize: [22, 22], html: "<div style='width:20px;height:20px;" +
      "border-radius:50%;background:#e6550d;color:#fff;border:1px solid #fff;font:bold 16px/20px sans-serif;" +
      "text-align:center;box-shadow:0 1px 3px rgba(0,0,0,.5)'>+</div>" });
    S.started = true;
    S.pixel = function (lon, lat) {  // where a place is on the page (the browser test drags markers there)
      var p = map.latLngToContainerPoint(G.toMap(lon, lat)), box = map.getContainer().getBoundingClientRect();
      return { x: p.x + box.left, y: p.y + box.top };
    };
    fetch("/api/session").then(function (r) { return r.ok ? r.json() : null; })
      .then(function (b) { csrf = b && b.csrf_token; }).catch(function () {});

    var panel = L.control({ position: "topright" });
    panel.onAdd = function () {
      var div = L.DomUtil.create("div", "hm-whatif leaflet-control");
      // The legend's look, without its class (pages and tests find the legend by .hm-legend).
      div.style.cssText = "background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;font-size:12px;" +
        "line-height:1.5;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:320px";
      // Folded to its title on a phone (the map stays visible), open where the settings panel opens too, and
      // wherever a saved plan is opened (its line says which).
      var wide = window.matchMedia("(min-width: 900px) and (min-height: 600px)").matches;
      var open = wide || W.plan ? " open" : "";
      div.innerHTML = "<details id='hm-whatif-fold'" + open + "><summary><b>" + esc(T.title) + "</b></summary>" +
        "<div>" + esc(T.hint) + "</div>" +
        "<button type='button' id='hm-whatif-add'>" + esc(T.add) + "</button> " +
        "<button type='button' id='hm-whatif-clear'>" + esc(T.clear) + "</button><div id='hm-whatif-suggest'></div>" +
        "<div id='hm-whatif-plan' style='font-weight:bold'></div><div id='hm-whatif-overridden'></div>" +
        "<div id='hm-whatif-totals'></div>" +
        "<input id='hm-whatif-name' placeholder='" + esc(T.name) + "'> " +
        "<button type='button' id='hm-whatif-save'>" + esc(T.save) + "</button><div id='hm-whatif-msg'></div>" +
        "<a id='hm-whatif-plans' href='/plans?lang=" + esc(cfg.lang) + "'>" + esc(T.plans) + "</a></details>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    panel.addTo(map);
    var addButton = document.getElementById("hm-whatif-add");
    addButton.onclick = function () {
      addMode = !addMode;
      addButton.style.fontWeight = addMode ? "bold" : "";
      map.getContainer().style.cursor = addMode ? "crosshair" : "";
    };
    document.getElementById("hm-whatif-clear").onclick = clear;
    document.getElementById("hm-whatif-save").onclick = save;
    // A click on an area opens its popup and goes no further (Leaflet stops it): listen on the areas too.
    map.on("click", function (e) { if (addMode) addDraft(e.latlng); });
    Object.keys(cov.areas).forEach(function (code) {
      cov.areas[code].on("click", function (e) { if (addMode) addDraft(e.latlng); });
    });
    map.on("moveend", loadFacilities);

    function removable(marker, onRemove, label) {  // label: HTML above the button (a suggested site's figures)
      marker.bindPopup((label || "") + "<button type='button' class='hm-whatif-remove'>" + esc(T.remove) + "</button>");
      marker.on("popupopen", function (e) {
        e.popup.getElement().querySelector(".hm-whatif-remove").onclick = function () {
          map.closePopup();
          onRemove();
          send();
        };
      });
    }
    function addDraft(ll, quiet, mark) {  // mark: {icon, label} of a suggested site (whatif-suggest.js)
      var d = { marker: L.marker(ll, { draggable: true, icon: (mark && mark.icon) || draftIcon }).addTo(map) };
      drafts.push(d);
      setTimeout(function () { map.closePopup(); }, 0);  // the click also opened the area's popup
      d.marker.on("dragend", send);
      removable(d.marker, function () { map.removeLayer(d.marker); drafts.splice(drafts.indexOf(d), 1); },
                mark && mark.label);
      if (!quiet) send();
    }
    // A saved plan as the draft: its additions as draft markers, its moved and removed facilities as edited ones.
    // The plan's line stays while the draft is edited (message() is the last answer's); the page's kind, radius
    // and level are the plan's, and the export refuses the plan under any other (422).
    function loadPlan(P) {
      document.getElementById("hm-whatif-overridden").textContent = P.overridden;
      var fits = new URLSearchParams({ kind: W.kind, by: W.by });
      if (W.radius !== null) fits.set("radius", W.radius);
      fetch("/api/plans/" + P.id + "/export?" + fits, { headers: { Accept: "application/geo+json" } })
        .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw refusal(r, b, cfg.lang); return b; }); })
        .then(function (fc) {
          fc.features.forEach(function (f) {
            var p = f.properties, c = f.geometry && f.geometry.coordinates;
            if (!c) return;  // a facility the plan removes that is gone since
            var ll = G.toMap(c[0], c[1]);
            if (p.op === "add") { addDraft(ll, true); return; }
            var m = editExisting(p.id, ll);
            existing[p.id] = p.op === "remove" ? { op: "remove", id: p.id } : { op: "move", id: p.id, lon: c[0], lat: c[1] };
            if (p.op === "remove") { m.setOpacity(0.35); m.dragging.disable(); }
          });
          S.loaded = fc.plan.id;
          document.getElementById("hm-whatif-plan").textContent = P.line;
          send();
        })
        .catch(function (err) { S.errors.push(String(err.message || err)); message(String(err.message || err)); });
    }
    if (W.plan) loadPlan(W.plan);
    // 建议选址: siting's proposals become draft additions, as if clicked, with one what-if for them all.
    if (W.suggest && window.hygieneWhatIfSuggest) {
      window.hygieneWhatIfSuggest.start(document.getElementById("hm-whatif-suggest"), cfg, {
        add: function (sites) {
          sites.forEach(function (s) { addDraft(G.toMap(s.lon, s.lat), true, s); });
          send();
          // Shown where they are: at city zoom the numbered markers lie on one another. Below 15, where the
          // existing facilities would turn editable.
          map.fitBounds(L.latLngBounds(sites.map(function (s) { return G.toMap(s.lon, s.lat); })).pad(0.3), { maxZoom: 14 });
        },
        refusal: refusal
      });
    }
    function editExisting(id, ll) {
      var m = L.marker(ll, { draggable: true, title: "#" + id }).addTo(map);
      m.on("dragend", function () {
        var p = G.fromMap(m.getLatLng());
        existing[id] = { op: "move", id: id, lon: p.lon, lat: p.lat };
        send();
      });
      removable(m, function () { existing[id] = { op: "remove", id: id }; m.setOpacity(0.35); m.dragging.disable(); });
      return m;
    }
    function loadFacilities() {
      if (map.getZoom() < 15) { facilities.clearLayers(); return; }
      var b = map.getBounds(), sw = G.fromMap(b.getSouthWest()), ne = G.fromMap(b.getNorthEast());
      var bbox = [sw.lon, sw.lat, ne.lon, ne.lat].map(function (x) { return x.toFixed(6); });
      fetch("/api/layers/" + W.layer + "/features?limit=500&bbox=" + bbox.join(","))
        .then(function (r) { return r.ok ? r.json() : { features: [] }; })
        .then(function (fc) {
          facilities.clearLayers();
          fc.features.forEach(function (f) {
            var id = f.id !== undefined && f.id !== null ? f.id : f.properties.id;
            // Closed facilities are not in the plan's base (geo.coverage.kind_filter): nothing to move or remove.
            if (existing[id] || (W.category && f.properties.kind !== W.category) || f.properties.in_service === false) return;
            var c = f.geometry.coordinates, ll = G.toMap(c[0], c[1]);
            var dot = L.circleMarker(ll, { radius: 5, color: "#08519c", weight: 1, fillOpacity: 0.8 })
              .bindPopup("<button type='button' class='hm-whatif-edit'>" + esc(T.edit) + "</button>");
            dot.on("popupopen", function (e) {
              e.popup.getElement().querySelector(".hm-whatif-edit").onclick = function () {
                map.closePopup();
                facilities.removeLayer(dot);
                existing[id] = { op: "move", id: id, lon: c[0], lat: c[1] };
                editExisting(id, ll);
              };
            });
            facilities.addLayer(dot);
          });
        });
    }

    function edits() {
      var out = drafts.map(function (d) {
        var p = G.fromMap(d.marker.getLatLng());
        return { op: "add", lon: p.lon, lat: p.lat };
      });
      Object.keys(existing).forEach(function (id) { out.push(existing[id]); });
      return out;
    }
    function headers() {
      var h = { "Content-Type": "application/json", Accept: "application/json" };
      if (csrf) h["X-CSRF-Token"] = csrf;
      return h;
    }
    function draft() { return { kind: W.kind, radius: W.radius, by: W.by, edits: edits() }; }
    // One draft in flight at a time. The route is costly work gated per client (api/limits.py): a second
    // request of ours would get 429. Edits made meanwhile only mark the draft as changed (they coalesce), and
    // the latest draft goes when the answer comes. On 429 (the server busy with costly work) the latest draft
    // goes again after Retry-After: the planner sees the last answer until then, never an error.
    var inFlight = false, queued = false, retryTimer = null, notice = "";
    function send() {
      var body = draft();
      S.pending = true;
      S.edits = body.edits.length;
      S.draft = body.edits;
      if (inFlight || retryTimer) { queued = true; return; }
      post();
    }
    function post() {
      inFlight = true;
      queued = false;
      S.sent += 1;
      fetch(W.url, { method: "POST", headers: headers(), body: JSON.stringify(draft()) })
        .then(function (r) {
          if (r.status === 429) {
            var wait = parseFloat(r.headers.get("Retry-After"));
            S.retries += 1;
            retryTimer = setTimeout(function () { retryTimer = null; post(); },
                                    1000 * (isFinite(wait) && wait >= 0 ? wait : 5));
            return null;
          }
          return r.json().then(function (b) { if (!r.ok) throw refusal(r, b, cfg.lang); return b; });
        })
        .then(function (b) { if (b && !queued) show(b); })  // a newer draft waits: its answer will be shown
        .catch(function (err) {
          var text = String(err.message || err), k = /^edits\[(\d+)\]: .* is outside the city/.exec(err.detail || text);
          if (k && +k[1] < drafts.length) {  // a draft placed beyond the city's reach: taken back, the rest sent again
            map.removeLayer(drafts[+k[1]].marker);
            drafts.splice(+k[1], 1);
            S.takenBack += 1;
            S.draft = edits();
            S.edits = S.draft.length;
            notice = T.outside;
            message(notice);
            queued = true;
            return;
          }
          S.errors.push(text);
          message(text);
        })
        .then(function () {
          inFlight = false;
          if (retryTimer) return;
          if (queued) post(); else S.pending = false;
        });
    }
    function restore(code) {
      var layer = cov.areas[code], gap = cov.gaps[code];
      layer.setStyle({ color: "#555", weight: 1, fillColor: cov.colourOf(layer.feature.properties.covered_area_pct) });
      layer.setPopupContent(cov.popup(layer.feature.properties));
      if (gap && !cov.gapLayer.hasLayer(gap)) cov.gapLayer.addLayer(gap);
    }
    function show(b) {
      Object.keys(changed).forEach(restore);
      changed = {};
      S.areas = {};
      draftGaps.clearLayers();
      b.areas.forEach(function (a) {
        var layer = cov.areas[a.code];
        if (!layer) return;
        changed[a.code] = true;
        S.areas[a.code] = a.covered_area_pct;
        layer.setStyle({ color: "#1f78b4", weight: 3, fillColor: cov.colourOf(a.covered_area_pct) });
        layer.setPopupContent(cov.popup(a) + "<br>" + esc(T.before) + ": " + fmt(a.covered_area_pct_before) + " % · " +
          esc(T.residents) + " " + num(a.covered_residents_before) + " → " + num(a.covered_residents));
        if (cov.gaps[a.code]) cov.gapLayer.removeLayer(cov.gaps[a.code]);
        if (a.gaps) draftGaps.addLayer(L.geoJSON(JSON.parse(a.gaps), { style: cov.gapStyle, interactive: false }));
      });
      S.before = b.before;
      S.after = b.after;
      S.answers += 1;
      document.getElementById("hm-whatif-totals").innerHTML =
        esc(T.covered) + ": " + fmt(b.before.covered_area_pct, 2) + " % → <b>" + fmt(b.after.covered_area_pct, 2) +
        " %</b><br>" +
        // km² too: in a large municipality one toilet moves the share by less than 0.01 point
        esc(T.covered_km2) + ": " + fmt(b.before.covered_area_km2, 3) + " km² → <b>" + fmt(b.after.covered_area_km2, 3) +
        " km²</b> (" + (b.after.covered_area_km2 >= b.before.covered_area_km2 ? "+" : "") +
        fmt(b.after.covered_area_km2 - b.before.covered_area_km2, 3) + ")<br>" +
        esc(T.residents) + ": " + num(b.before.covered_residents) + " → <b>" + num(b.after.covered_residents) + "</b>" +
        " (" + b.edits + " " + esc(T.edits) + ", " + b.areas.length + " " + esc(T.areas) + ")";
      message(notice);  // a draft taken back stays said until the next answer
      notice = "";
    }
    function message(text) { document.getElementById("hm-whatif-msg").textContent = text; }
    function clear() {
      drafts.forEach(function (d) { map.removeLayer(d.marker); });
      drafts = [];
      existing = {};
      map.eachLayer(function (l) { if (l instanceof L.Marker && l.options.title && l.options.title[0] === "#") map.removeLayer(l); });
      loadFacilities();
      send();
    }
    function save() {
      var name = document.getElementById("hm-whatif-name").value.trim();
      if (!name) { message(T.need_name); return; }
      var body = draft();
      body.name = name;
      fetch("/api/plans", { method: "POST", headers: headers(), body: JSON.stringify(body) })
        .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw refusal(r, b, cfg.lang); return b; }); })
        .then(function (plan) {
          S.saved = plan.id;
          var msg = document.getElementById("hm-whatif-msg");
          msg.innerHTML = esc(T.saved) + " #" + plan.id + " · <a id='hm-whatif-saved' href='/plans/" + plan.id +
            "?lang=" + esc(cfg.lang) + "'>" + esc(T.compare) + "</a>";
        })
        .catch(function (err) { message(String(err.message || err)); });
    }
  }

  window.hygieneWhatIf = { start: start };
})();
