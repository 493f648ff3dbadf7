/* The case page (/cases): a complaint reported through the public channel (/report, or a partner's Open311) as its
   street office answers it — the reporters (their numbers, their own words, each supporter's 补充 and photos) and
   the unit's public replies, with a form to write one (公开答复, shown at once here and on the residents' tracking
   pages). Only where the detail's ``actions.public_reply`` says this user may (the test of GET .../contacts and
   POST .../replies): for anyone else nothing is shown and nothing is fetched. Other people's words go in as text
   only. For people and tests: body[data-public] = the complaint whose section is filled; body[data-awaiting] = that
   complaint when a resident has had no reply since their report (closing it asks for one first). */
(function () {
  'use strict';
  var hm = window.hmCases, t = hm.cfg.words, el = hm.el;

  function reportItem(r, photos) {
    var li = el('li', r.joined ? 'cs-supporter' : 'cs-first');
    li.setAttribute('data-tracking', r.tracking);
    li.appendChild(el('b', null, (r.joined ? t.supporter : t.first_report) + ' · ' + hm.when(r.reported_at)));
    li.appendChild(el('span', 'cs-tracking', ' ' + t.tracking + ' ' + r.tracking + (r.channel ? ' · ' + r.channel : '')));
    var phone = el('p', 'cs-phone', t.phone);
    if (r.phone) {
      var a = el('a', null, r.phone);
      a.href = 'tel:' + r.phone.replace(/[^0-9+]/g, '');  // only what is dialled: no brackets, dots, dashes
      phone.appendChild(a);
    } else {
      phone.appendChild(el('span', 'tr-note', t.no_phone));
    }
    li.appendChild(phone);
    li.appendChild(el('p', 'cs-note cs-words', r.description || t.no_words));
    if (r.rating) {  // the resident's rating of the closing, and why when not satisfied
      var rated = el('p', 'cs-rating', t.rated + r.rating.rating + ' · ' + hm.when(r.rating.at));
      rated.setAttribute('data-rating', r.rating.rating);
      if (r.rating.reason) rated.appendChild(el('span', 'cs-note', ' ' + r.rating.reason));
      li.appendChild(rated);
    }
    var mine = photos.filter(function (p) { return p.tracking === r.tracking; });
    if (mine.length) {
      var strip = el('p', 'cs-photos');
      mine.forEach(function (p) {
        var link = el('a');
        link.href = p.url; link.target = '_blank'; link.rel = 'noopener';
        var img = el('img');
        img.src = p.url; img.alt = t.reporters; img.loading = 'lazy';
        link.appendChild(img);
        strip.appendChild(link);
      });
      li.appendChild(strip);
    }
    return li;
  }

  function replyList(replies) {
    var ol = el('ol', 'cs-replies');
    ol.id = 'cs-replies';
    replies.forEach(function (q) {
      var li = el('li');
      li.appendChild(el('p', 'cs-note', q.reply));
      li.appendChild(el('time', null, hm.when(q.at) + (q.actor ? ' · ' + t.by + ' ' + q.actor : '')));
      ol.appendChild(li);
    });
    if (!replies.length) ol.appendChild(el('li', 'tr-note', t.no_reply));
    return ol;
  }

  // The reply form: what was typed stays in the box when the server refuses it; sending the same words again
  // after a lost answer is the same write (the same Idempotency-Key).
  function replyForm(c) {
    var form = el('form', 'cs-form');
    form.id = 'cs-reply-form';
    var box = el('textarea');
    box.id = 'cs-reply'; box.name = 'reply'; box.rows = 4; box.maxLength = 2000;
    var label = el('label', 'cs-field', t.reply_label);
    label.appendChild(box);
    form.appendChild(label);
    form.appendChild(el('p', 'tr-note cs-hint', t.reply_hint));
    var msg = el('p', 'tr-error');
    msg.id = 'cs-reply-msg'; msg.setAttribute('role', 'alert');
    form.appendChild(msg);
    var b = el('button', null, t.send_reply);
    b.type = 'submit';
    form.appendChild(b);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var text = box.value.trim();
      msg.textContent = '';
      if (!text) { msg.textContent = t.need_reply; box.focus(); return; }
      if (!b.sent || b.sent.text !== text) b.sent = {text: text, key: hm.uuid()};
      b.disabled = true;
      hm.write('POST', '/api/complaints/' + c.id + '/replies', {reply: text}, b.sent.key).then(function (a) {
        if (a.status >= 200 && a.status < 300) return hm.show(c.id, {ok: t.replied});
        b.disabled = false;
        msg.textContent = a.status === 422 ? t.e_reply.replace('{d}', hm.detailText(a.body)) : hm.explain(a, c);
      }, function () { b.disabled = false; msg.textContent = t.e_net; });
    });
    return form;
  }

  function fill(section, c, contacts, photos) {
    var reports = contacts.reports || [];
    section.appendChild(el('h3', null, t.reporters + ' (' + reports.length + ')'));
    var ol = el('ol', 'cs-reporters');
    ol.id = 'cs-reporters';
    reports.forEach(function (r) { ol.appendChild(reportItem(r, photos)); });
    section.appendChild(ol);
    section.appendChild(el('h3', null, t.replies));
    section.appendChild(replyList(contacts.replies || []));
    section.appendChild(replyForm(c));
    // No reply since the latest report or 不满意 (its reason says what is still wrong): closing the case now
    // would leave the residents with a bare 结案.
    var answered = (contacts.replies || []).reduce(function (m, q) { return Math.max(m, Date.parse(q.at)); }, -Infinity);
    if (reports.some(function (r) {
      return Date.parse(r.reported_at) > answered ||
        (r.rating && r.rating.rating === '不满意' && Date.parse(r.rating.at) > answered);
    })) {
      document.body.setAttribute('data-awaiting', c.id);
    }
  }

  hm.reporters = function (c, box) {
    document.body.removeAttribute('data-public');
    document.body.removeAttribute('data-awaiting');
    if (!(c.actions && c.actions.public_reply)) return;
    var section = el('section', 'cs-public');
    section.id = 'cs-public';
    box.appendChild(section);
    var photosUrl = '/api/complaints/' + c.id + '/photos';
    Promise.all([hm.getJson('/api/complaints/' + c.id + '/contacts'), hm.getJson(photosUrl)]).then(function (got) {
      var contacts = got[0], photos = got[1];
      if (contacts.status !== 200) {
        section.appendChild(el('p', 'tr-error', t.e_contacts.replace('{d}', hm.explain(contacts, c))));
        return;
      }
      fill(section, c, contacts.body, photos.status === 200 ? photos.body.photos || [] : []);
      if (section.isConnected) document.body.setAttribute('data-public', c.id);
    }, function () { section.appendChild(el('p', 'tr-error', t.e_net)); });
  };
})();
