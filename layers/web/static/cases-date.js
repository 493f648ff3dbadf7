/* The case page's deadline field (/cases): a time as the page writes times, "2026-12-05 18:00", typed or with a day
   picked from the page's own calendar. A browser's date field follows the browser's locale, not the page's
   language (an English browser shows 12/05/2026, 06:00 PM on a Chinese page), so the page does not use one.
   hm.dueField(value) gives the field; hm.dueValue(field) the value to send ("2026-12-05T18:00"), or null. */
(function () {
  'use strict';
  var hm = window.hmCases, t = hm.cfg.words, el = hm.el;
  var DUE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/;
  function two(n) { return ('0' + n).slice(-2); }

  // A month of day buttons (weeks from Sunday); a click puts the day into the field, keeping the time typed.
  function calendar(input, box, year, month) {
    box.textContent = '';
    var head = el('p', 'cs-cal-head');
    var title = el('b', null, t.month_title.replace('{y}', year).replace('{m}', month + 1));
    [[-1, '‹', t.prev_month], [1, '›', t.next_month]].forEach(function (step, i) {
      var b = el('button', 'cs-cal-step', step[1]);
      b.type = 'button'; b.setAttribute('aria-label', step[2]);
      b.addEventListener('click', function () {
        var d = new Date(year, month + step[0], 1);
        calendar(input, box, d.getFullYear(), d.getMonth());
      });
      if (i === 1) head.appendChild(title);
      head.appendChild(b);
    });
    box.appendChild(head);
    var grid = el('div', 'cs-cal-days');
    t.weekdays.forEach(function (w) { grid.appendChild(el('span', 'cs-cal-wd', w)); });
    for (var blank = new Date(year, month, 1).getDay(); blank > 0; blank--) grid.appendChild(el('span'));
    var days = new Date(year, month + 1, 0).getDate();
    for (var day = 1; day <= days; day++) {
      var b = el('button', null, String(day));
      b.type = 'button'; b.setAttribute('data-day', day);
      b.addEventListener('click', pick(input, box, year + '-' + two(month + 1) + '-' + two(day)));
      grid.appendChild(b);
    }
    box.appendChild(grid);
  }
  function pick(input, box, date) {
    return function () {
      var time = (DUE.exec(input.value) || [])[0] ? input.value.slice(11) : '18:00';
      input.value = date + ' ' + time;
      box.remove();
      input.focus();
    };
  }

  hm.dueField = function (value) {
    var wrap = el('span', 'cs-due');
    var input = el('input');
    input.type = 'text'; input.name = 'due_at'; input.autocomplete = 'off'; input.spellcheck = false;
    input.pattern = '\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}';
    input.placeholder = t.due_hint;
    input.value = value.replace('T', ' ');
    var button = el('button', 'cs-pick-day', t.pick_day);
    button.type = 'button';
    button.addEventListener('click', function () {
      var open = wrap.querySelector('.cs-calendar');
      if (open) { open.remove(); return; }
      var box = el('div', 'cs-calendar'), at = DUE.exec(input.value);
      var shown = at ? new Date(Number(at[1]), Number(at[2]) - 1, 1) : new Date();
      calendar(input, box, shown.getFullYear(), shown.getMonth());
      wrap.appendChild(box);
    });
    wrap.appendChild(input);
    wrap.appendChild(button);
    return wrap;
  };
  hm.dueValue = function (input) {
    var at = DUE.exec(input.value.trim());
    return at ? at[1] + '-' + at[2] + '-' + at[3] + 'T' + at[4] + ':' + at[5] : null;
  };
})();
