/* The case page's writes (/cases): the next workflow step with a note, an extension request, and for the campaign
   office (admin) the decision on a pending request and a new deadline. Only what the server says this user may do
   to this complaint (its detail's ``actions``: the workflow's next states within the user's scope and role, and
   the deadline rules) gets a button or a form; with nothing to do, a read-only note says why. */
(function () {
  'use strict';
  var hm = window.hmCases, cfg = hm.cfg, t = cfg.words, wf = cfg.workflow, el = hm.el;

  // "2026-12-05T18:00" in the city's zone, which the API reads in that zone.
  function localValue(iso) {
    var s = new Intl.DateTimeFormat('sv-SE', {timeZone: cfg.time_zone, year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false}).format(new Date(iso));
    return s.replace(' ', 'T');
  }
  function field(form, label, input) {
    var l = el('label', 'cs-field', label);
    l.appendChild(input);
    form.appendChild(l);
    return input;
  }
  function textarea(name) {
    var a = el('textarea');
    a.name = name; a.rows = 2; a.maxLength = 1000;
    return a;
  }
  // Run one write and show the complaint again with the outcome; errors in the page's words.
  // A button sending the same body again (its answer was lost to the network) sends the same Idempotency-Key.
  function run(c, button, method, url, body, ok) {
    var payload = JSON.stringify(body);
    if (!button.sent || button.sent.body !== payload) button.sent = {body: payload, key: hm.uuid()};
    button.disabled = true;
    return hm.write(method, url, body, button.sent.key).then(function (a) {
      if (a.status >= 200 && a.status < 300) { hm.reloadList(); return hm.show(c.id, {ok: ok}); }
      if (a.status === 409 || a.status === 403) {  // the complaint moved on, or is not ours: show it as it is now
        return fetch('/api/complaints/' + c.id, {credentials: 'same-origin'}).then(function (r) { return r.json(); })
          .then(function (now) { return hm.show(c.id, {error: hm.explain(a, now.status ? now : c)}); });
      }
      return hm.show(c.id, {error: hm.explain(a, c)});
    }, function () {
      button.disabled = false;
      document.getElementById('cs-msg').textContent = t.e_net;
    });
  }

  function steps(c, box, next) {
    var form = el('form', 'cs-form');
    form.id = 'cs-step';
    form.appendChild(el('h3', null, t.next));
    var needs = function (to) { return wf.note_required.indexOf(c.status + '>' + to) >= 0; };
    var anyNeeds = next.some(needs);
    var note = field(form, t.note + (anyNeeds ? '' : t.note_optional), textarea('note'));
    note.id = 'cs-note';
    var buttons = el('p', 'cs-buttons');
    next.forEach(function (to) {
      // A move that means more than its next status (受理→结案 is 不予立案) is named for what it means.
      var name = t.moves[c.status + '>' + to] || statusName(to);
      var b = el('button', needs(to) ? 'cs-needs-note' : '', name + (needs(to) ? t.note_required : ''));
      b.type = 'button';
      b.setAttribute('data-to', to);
      b.addEventListener('click', function () {
        var text = note.value.trim();
        if (needs(to) && !text) { document.getElementById('cs-msg').textContent = t.need_note; note.focus(); return; }
        if (unanswered(c, to, b)) return;
        run(c, b, 'PATCH', '/api/complaints/' + c.id, {status: to, note: text || null},
            t.moved.replace('{s}', statusName(to)));
      });
      buttons.appendChild(b);
    });
    form.appendChild(buttons);
    box.appendChild(form);
  }
  function statusName(s) { return hm.statusName(s); }
  // Closing a resident's case nobody has answered: say so once (the reply form is below); a second click closes.
  // Not registering it (from 受理) waits for the reply: the API refuses 不予立案 of a resident's report without one.
  function unanswered(c, to, b) {
    if (to !== wf.closed || document.body.getAttribute('data-awaiting') !== String(c.id)) return false;
    var rejecting = c.status === wf.received;
    if (b.warned && !rejecting) return false;
    b.warned = true;
    document.getElementById('cs-msg').textContent =
      (rejecting ? t.reject_unanswered : t.close_unanswered).split('{s}').join(statusName(to));
    var reply = document.getElementById('cs-reply');
    if (reply) reply.focus();
    return true;
  }

  function dueForm(c, id, title, submit, url, method, ok) {
    var form = el('form', 'cs-form');
    form.id = id;
    form.appendChild(el('h3', null, title));
    // A day after the current deadline (or after now, when that has passed), on the hour; cases-date.js's field.
    var at = localValue(new Date(Math.max(Date.parse(c.due_at), Date.now()) + 86400000).toISOString()).slice(0, 14) + '00';
    var due = field(form, t.new_due.replace('{tz}', cfg.time_zone), hm.dueField(at)).querySelector('input');
    var reason = field(form, t.reason, textarea('reason'));
    var b = el('button', null, submit);
    b.type = 'submit';
    form.appendChild(b);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var msg = document.getElementById('cs-msg');
      if (!due.value.trim()) { msg.textContent = t.need_due; due.focus(); return; }
      if (!hm.dueValue(due)) { msg.textContent = t.need_due_format; due.focus(); return; }
      if (!reason.value.trim()) { msg.textContent = t.need_reason; reason.focus(); return; }
      run(c, b, method, url, {due_at: hm.dueValue(due), reason: reason.value.trim()}, ok);
    });
    return form;
  }
  function pending(c, box, decides) {
    var p = c.deadline_request, form = el('form', 'cs-form cs-pending');
    form.id = 'cs-request';
    form.appendChild(el('h3', null, t.pending));
    form.appendChild(el('p', null, t.asked_for + ' ' + hm.when(p.due_after) + (p.actor ? ' · ' + t.by + ' ' + p.actor : '')));
    if (p.note) form.appendChild(el('p', 'cs-note', p.note));
    if (decides) {
      var note = field(form, t.decision_note, textarea('note'));
      var buttons = el('p', 'cs-buttons');
      ['approve', 'reject'].forEach(function (decision) {
        var b = el('button', null, t[decision]);
        b.type = 'button';
        b.setAttribute('data-decision', decision);
        b.addEventListener('click', function () {
          if (decision === 'reject' && !note.value.trim()) {
            document.getElementById('cs-msg').textContent = t.need_note; note.focus(); return;
          }
          run(c, b, 'POST', '/api/complaints/' + c.id + '/deadline/requests/' + p.id + '/decision',
              {decision: decision, note: note.value.trim() || null}, t.decided);
        });
        buttons.appendChild(b);
      });
      form.appendChild(buttons);
    }
    box.appendChild(form);
  }

  // Why nothing is offered: the account only reads, the case is closed, or it is outside the user's scope.
  function readOnly(c, box) {
    var why = !cfg.writes ? t.no_write : !(wf.next[c.status] || []).length ? t.closed
      : t.not_yours.replace('{scope}', cfg.user.scope);
    box.appendChild(el('p', 'tr-note cs-readonly', why)).id = 'cs-readonly';
  }

  hm.actions = function (c, box) {
    var may = c.actions || {steps: []};
    if (may.steps.length) steps(c, box, may.steps);
    if (c.deadline_request) pending(c, box, may.decide_extension);
    if (may.request_extension) {
      box.appendChild(dueForm(c, 'cs-ask', t.ask, t.send_ask, '/api/complaints/' + c.id + '/deadline/requests',
                              'POST', t.asked));
    }
    if (may.set_deadline) {
      box.appendChild(dueForm(c, 'cs-set', t.set_due, t.send_set, '/api/complaints/' + c.id + '/deadline', 'PUT',
                              t.set_done));
    }
    if (!may.steps.length && !may.request_extension && !may.decide_extension && !may.set_deadline) readOnly(c, box);
  };
})();
