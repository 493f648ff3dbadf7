/* The case page's photos of the work (处置照片, /cases): staff who may handle the complaint see its before and
   after photos and add one from the phone, made small there (photo-shrink.js) — an after photo once the case is
   at 核查 or 结案, as the server allows. A resident's tracking page shows the case's photos (never who took them).
   Only where the detail's ``actions.photos`` says this user may: for anyone else nothing is shown or fetched.
   For people and tests: body[data-photos] = the complaint whose photos are drawn. */
(function () {
  'use strict';
  var hm = window.hmCases, cfg = hm.cfg, t = cfg.words, el = hm.el;

  function strip(photos, stage) {
    var mine = photos.filter(function (p) { return p.stage === stage && !p.tracking; });
    var p = el('p', 'cs-photos');
    p.setAttribute('data-stage', stage);
    p.appendChild(el('b', null, (stage === 'after' ? t.after : t.before) + ' (' + mine.length + ') '));
    mine.forEach(function (photo) {
      var link = el('a');
      link.href = photo.url; link.target = '_blank'; link.rel = 'noopener';
      var img = el('img');
      img.src = photo.url; img.alt = stage === 'after' ? t.after : t.before; img.loading = 'lazy';
      img.title = hm.when(photo.uploaded_at) + (photo.uploaded_by ? ' · ' + t.by + ' ' + photo.uploaded_by : '');
      link.appendChild(img);
      p.appendChild(link);
    });
    return p;
  }

  // One photo to the case: shrunk here, sent as multipart with the session's CSRF token. The same photo sent
  // again (an answer lost) is the same photo on the server (it knows it by its content).
  function send(c, stage, file, msg, button) {
    msg.textContent = t.resizing;
    button.disabled = true;
    return window.hmShrink(file, cfg.photo_px).then(function (blob) {
      return hm.token().then(function (csrf) {
        var form = new FormData();
        form.append('stage', stage);
        form.append('file', blob, 'photo.jpg');
        return fetch('/api/complaints/' + c.id + '/photos', {method: 'POST', credentials: 'same-origin', body: form,
          headers: {'Accept': 'application/json', 'X-CSRF-Token': csrf}}).then(hm.answer);
      });
    }, function () { return {status: 0, body: {detail: t.photo_bad}}; }).then(function (a) {
      button.disabled = false;
      if (a.status === 200 || a.status === 201) return hm.show(c.id, {ok: t.photo_added});
      msg.textContent = t.e_photo.replace('{d}', a.status ? hm.explain(a, c) : hm.detailText(a.body));
    }, function () { button.disabled = false; msg.textContent = t.e_net; });
  }

  function form(c) {
    var f = el('form', 'cs-form');
    f.id = 'cs-photo-form';
    var stage = el('select');
    stage.name = 'stage';
    var afterOk = cfg.workflow.after_from.indexOf(c.status) >= 0;
    [['before', t.before], ['after', t.after]].forEach(function (o) {
      var opt = el('option', null, o[1]);
      opt.value = o[0];
      if (o[0] === 'after' && !afterOk) opt.disabled = true;
      stage.appendChild(opt);
    });
    if (afterOk) stage.value = 'after';  // the work is done: its result is what is photographed now
    var label = el('label', 'cs-field', t.photo_stage);
    label.appendChild(stage);
    f.appendChild(label);
    var input = el('input');
    input.type = 'file'; input.accept = 'image/*'; input.setAttribute('capture', 'environment'); input.id = 'cs-photo';
    var pick = el('label', 'cs-field cs-pick', t.add_photo);
    pick.appendChild(input);
    f.appendChild(pick);
    if (!afterOk) f.appendChild(el('p', 'tr-note', t.after_wait.replace('{s}', cfg.workflow.after_from.map(hm.statusName).join(' / '))));
    f.appendChild(el('p', 'tr-note cs-hint', t.photo_hint));
    var msg = el('p', 'tr-error');
    msg.id = 'cs-photo-msg'; msg.setAttribute('role', 'alert');
    f.appendChild(msg);
    input.addEventListener('change', function () {
      var file = input.files[0];
      if (file) send(c, stage.value, file, msg, input);
    });
    return f;
  }

  hm.photos = function (c, box) {
    document.body.removeAttribute('data-photos');
    if (!(c.actions && c.actions.photos)) return;
    var section = el('section', 'cs-work');
    section.id = 'cs-work';
    section.appendChild(el('h3', null, t.photos));
    box.appendChild(section);
    hm.getJson('/api/complaints/' + c.id + '/photos').then(function (a) {
      if (a.status !== 200) { section.appendChild(el('p', 'tr-error', t.e_photo.replace('{d}', hm.explain(a, c)))); return; }
      var photos = a.body.photos || [];
      section.appendChild(strip(photos, 'before'));
      section.appendChild(strip(photos, 'after'));
      section.appendChild(form(c));
      if (section.isConnected) document.body.setAttribute('data-photos', c.id);
    }, function () { section.appendChild(el('p', 'tr-error', t.e_net)); });
  };
})();
