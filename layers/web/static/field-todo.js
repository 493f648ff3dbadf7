/* The field page's to-do list (online; after field.js, whose resize, send and when it uses): a street office's
   findings 待整改 — a photo after rectification, then 已整改 — and an inspector's or an admin's findings 已整改 —
   复查通过, or 复查未通过 with what is still wrong. Each card shows the latest exchange (the failed re-check's note
   to the street; the rectification note and photos after to the inspector). The server decides who may (its
   refusal is said on the card).
   For people and tests: body[data-todo] = cards listed once loaded. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('fd-config').textContent);
  var todo = cfg.todo, list = document.getElementById('fd-todo');
  if (!todo || !list) return;
  var t = cfg.words, field = window.hmField;
  var texts = {};
  cfg.items.forEach(function (i) { texts[i.code] = i.text; });

  function act(url, init) {  // a write with the session's CSRF token; {status, body}
    return fetch('/api/session', {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.json(); })
      .then(function (s) { return field.send(url, init, s.csrf_token); });
  }
  var said = field.said;  // a refusal in the page's language

  function rectify(f, card, note) {
    var file = card.querySelector('input[type=file]').files[0];
    if (!file) return Promise.reject(new Error(t.need_after));
    return field.resize(file).then(function (blob) {
      var data = new FormData();
      data.append('stage', 'after');
      data.append('file', blob, 'after.jpg');
      return act('/api/inspections/findings/' + f.id + '/photos', {method: 'POST', body: data});
    }).then(function (a) {
      if (a.status !== 200 && a.status !== 201) throw new Error(said(a));
      return move(f, todo.moves.rectified, note);
    });
  }
  function move(f, status, note) {
    return act('/api/inspections/findings/' + f.id, {method: 'PATCH', headers: {'Content-Type': 'application/json'},
                                                     body: JSON.stringify({status: status, note: note || null})})
      .then(function (a) { if (a.status !== 200) throw new Error(said(a)); return a.body; });
  }

  function button(label, cls) {
    var b = document.createElement('button');
    b.type = 'button'; b.className = 'fd-small ' + cls; b.textContent = label;
    return b;
  }
  // The latest exchange on a finding, from its history (the API gives it, and the photos, only to those who may
  // read the description): the street reads why the last re-check failed and its own note before it; the
  // inspector reads the street's rectification note and an earlier failure's note, and sees the photos after.
  function last(events, to, before) {
    for (var i = (before === undefined ? events.length : before) - 1; i >= 0; i--) if (events[i].to === to) return i;
    return -1;
  }
  function talk(f) {
    var ev = f.events || [], m = todo.moves, shown = [];
    var failed = last(ev, m.failed), done = last(ev, m.rectified);
    if (todo.action === 'rectify') {  // 待整改 again after a failed re-check: why, then what the street said then
      if (failed >= 0) shown.push([ev[failed], t.said_failed, 'inspector']);
      var mine = failed >= 0 ? last(ev, m.rectified, failed) : -1;
      if (mine >= 0 && ev[mine].note) shown.push([ev[mine], t.said_rectified_before, 'street']);
    } else {  // 已整改: what the street says it did, and what the inspector asked for last time
      if (done >= 0) shown.push([ev[done], t.said_rectified, 'street']);
      if (failed >= 0 && failed < done) shown.push([ev[failed], t.said_failed_before, 'inspector']);
    }
    if (!shown.length) return null;
    var box = document.createElement('div');
    box.className = 'fd-talk';
    shown.forEach(function (s) {
      var p = document.createElement('p'), b = document.createElement('b'), who = document.createElement('span');
      p.setAttribute('data-side', s[2]);
      b.textContent = s[1] + (cfg.lang === 'en' ? ': ' : '：');
      who.className = 'fd-who';
      who.textContent = [s[0].actor, field.when(s[0].at, true)].filter(Boolean).join(' · ');
      p.appendChild(b);
      p.appendChild(document.createTextNode(s[0].note || t.no_note));
      p.appendChild(who);
      box.appendChild(p);
    });
    return box;
  }
  function photo(p, cls, label) {
    var fig = document.createElement('figure'), img = document.createElement('img');
    var cap = document.createElement('figcaption');
    img.className = cls; img.loading = 'lazy'; img.alt = label; img.src = p.url;
    cap.textContent = label;
    fig.appendChild(img);
    fig.appendChild(cap);
    return fig;
  }
  function photos(f) {  // the inspector's first photo before; to a re-checker, the photos after of this round too
    var all = f.photos || [], ev = f.events || [], strip = document.createElement('div');
    var before = all.filter(function (p) { return p.stage === 'before'; })[0];
    if (before) strip.appendChild(photo(before, 'fd-before', t.before));
    if (todo.action === 'recheck') {  // those sent since it last went to 待整改 (older ones failed a re-check)
      var since = last(ev, todo.moves.to_rectify), from = since >= 0 ? Date.parse(ev[since].at) : -Infinity;
      all.forEach(function (p) {
        if (p.stage === 'after' && Date.parse(p.uploaded_at) >= from) strip.appendChild(photo(p, 'fd-after', t.after));
      });
    }
    strip.className = 'fd-photos';
    return strip.childNodes.length ? strip : null;
  }
  function card(f) {
    var li = document.createElement('li');
    li.setAttribute('data-finding', f.id);
    li.setAttribute('data-state', f.overdue ? 'failed' : 'pending');
    li.innerHTML = '<b></b><br><span class="fd-state"></span><br><small></small><div class="fd-todo-act"></div>' +
                   '<p class="tr-error" role="alert"></p>';
    li.querySelector('b').textContent = f.item_code + ' ' + (texts[f.item_code] || f.item_text);
    li.querySelector('.fd-state').textContent = t.grid + ' ' + (f.grid_code || '-') + ' · ' + t.due + ' ' +
      field.when(f.due_at, true) + (f.overdue ? ' · ' + t.overdue : '');
    li.querySelector('small').textContent = f.description || '';
    [talk(f), photos(f)].forEach(function (part) {  // what the other side wrote and the photos, above the actions
      if (part) li.insertBefore(part, li.querySelector('.fd-todo-act'));
    });
    var box = li.querySelector('.fd-todo-act'), err = li.querySelector('.tr-error');
    var note = document.createElement('textarea');
    note.rows = 1; note.maxLength = 1000;
    note.placeholder = todo.action === 'rectify' ? t.rectify_note : t.fail_note;
    var buttons = [];
    if (todo.action === 'rectify') {
      var photo = document.createElement('label');
      photo.className = 'fd-camera';
      photo.textContent = t.after;
      var input = document.createElement('input');
      input.type = 'file'; input.accept = 'image/*'; input.setAttribute('capture', 'environment');
      photo.appendChild(input);
      box.appendChild(photo);
      buttons.push([button(t.rectify, ''), function () { return rectify(f, li, note.value.trim()); }]);
    } else {
      buttons.push([button(t.pass, ''), function () { return move(f, todo.moves.passed, note.value.trim()); }]);
      buttons.push([button(t.fail, 'fd-fail'), function () {
        if (!note.value.trim()) return Promise.reject(new Error(t.need_note));
        return move(f, todo.moves.failed, note.value.trim());
      }]);
    }
    box.appendChild(note);
    buttons.forEach(function (pair) {
      box.appendChild(pair[0]);
      pair[0].addEventListener('click', function () {
        err.textContent = '';
        buttons.forEach(function (p) { p[0].disabled = true; });
        pair[1]().then(function () {
          li.setAttribute('data-state', 'sent');
          box.textContent = '';
          li.querySelector('.fd-state').textContent = t.done + ' · ' + pair[0].textContent;
        }, function (e) {
          err.textContent = e.message || String(e);
          buttons.forEach(function (p) { p[0].disabled = false; });
        });
      });
    });
    return li;
  }

  // One page of the most the API gives, soonest deadline first (the overdue ones on top).
  var query = '?status=' + encodeURIComponent(todo.status) + '&limit=1000' +
              (todo.street ? '&street=' + encodeURIComponent(todo.street) : '');
  fetch('/api/inspections/findings' + query, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(function (page) {
      list.textContent = '';
      page.items.sort(function (a, b) { return Date.parse(a.due_at) - Date.parse(b.due_at) || a.id - b.id; });
      page.items.forEach(function (f) { list.appendChild(card(f)); });
      if (!page.items.length) list.innerHTML = '<li class="tr-note"></li>', list.firstChild.textContent = t.todo_empty;
      document.body.setAttribute('data-todo', page.items.length);
    })
    .catch(function (e) {  // offline: the list needs the network (findings recorded here still wait on the phone)
      document.getElementById('fd-todo-msg').textContent = navigator.onLine ? String(e.message || e) : t.offline;
    });
})();
