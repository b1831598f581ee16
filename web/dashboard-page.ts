/**
 * The web dashboard: one self-contained page (no build step, no external assets) served at `/`.
 * It calls the same API as every client, with the key the user pastes (kept in this browser's
 * localStorage), and refreshes itself. Every value from the API is inserted as text, never HTML.
 * The script avoids template literals so this file can hold it in one.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BuildState dashboard</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%23111827'/%3E%3Crect x='3' y='9' width='10' height='3' rx='1' fill='%2316a34a'/%3E%3Crect x='3' y='4' width='6' height='3' rx='1' fill='%232563eb'/%3E%3C/svg%3E">
<style>
  :root { --bg:#f6f7f9; --fg:#1d2430; --muted:#6b7280; --line:#e3e6ea;
    --pending:#9ca3af; --in_progress:#2563eb; --failed:#f59e0b; --blocked:#dc2626; --completed:#16a34a; --cancelled:#6b7280; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
  header { display:flex; gap:12px; align-items:center; padding:10px 16px; background:#111827; color:#fff; flex-wrap:wrap; }
  header h1 { font-size:16px; margin:0 12px 0 0; }
  header input, header select, header button { font:inherit; padding:4px 6px; border-radius:4px; border:1px solid #4b5563; }
  #live { font-size:12px; color:#9ca3af; margin-left:auto; }
  main { padding:16px; display:grid; gap:16px; grid-template-columns: 2fr 1fr; }
  section { background:#fff; border:1px solid var(--line); border-radius:6px; padding:12px; }
  section h2 { font-size:14px; margin:0 0 8px; }
  .wide { grid-column: 1 / -1; }
  .cards { display:flex; gap:12px; flex-wrap:wrap; }
  .card { min-width:110px; padding:8px 10px; border-radius:6px; background:var(--bg); }
  .card b { display:block; font-size:20px; }
  table { width:100%; border-collapse:collapse; }
  th, td { text-align:left; padding:5px 6px; border-bottom:1px solid var(--line); vertical-align:middle; }
  tr.build { cursor:pointer; }
  tr.build:hover { background:#f3f4f6; }
  tr.attention, tr.child-failed { background:#fef2f2; }
  tr.child td:first-child { padding-left:22px; }
  tr.child-failed td:first-child { border-left:4px solid var(--blocked); }
  .rollup { font-size:12px; margin-top:2px; }
  .pct { font-size:12px; margin-left:6px; }
  td .bar { display:inline-block; vertical-align:middle; }
  .badge { display:inline-block; padding:1px 6px; border-radius:10px; color:#fff; font-size:12px; }
  .bar { position:relative; height:12px; width:160px; background:var(--line); border-radius:6px; overflow:hidden; }
  .bar > span { position:absolute; left:0; top:0; bottom:0; }
  .s-pending { background:var(--pending); } .s-in_progress { background:var(--in_progress); }
  .s-failed { background:var(--failed); } .s-blocked { background:var(--blocked); }
  .s-completed { background:var(--completed); } .s-cancelled { background:var(--cancelled); }
  .stuck { color:var(--blocked); font-weight:600; }
  #timeline .row { display:flex; align-items:center; gap:8px; margin:3px 0; }
  #timeline .label { width:220px; font-size:12px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
  #timeline .lane { position:relative; flex:1; height:16px; background:var(--bg); border-radius:3px; }
  #timeline .seg { position:absolute; top:2px; bottom:2px; min-width:3px; border-radius:2px; }
  #timeline .seg.failed { background:var(--blocked); }
  #timeline .seg.completed { background:var(--completed); }
  #timeline .seg.in_progress { background:var(--in_progress); }
  #timeline .mark { position:absolute; top:-2px; font-size:12px; color:var(--blocked); font-weight:700; }
  #events li { font-size:12px; margin:2px 0; list-style:none; }
  #events ul { padding:0; margin:0; max-height:300px; overflow:auto; }
  .muted { color:var(--muted); }
  #error { color:#fecaca; font-size:12px; }
</style>
</head>
<body>
<header>
  <h1>BuildState</h1>
  <label>API key <input id="key" type="password" size="30" autocomplete="off" placeholder="bst_…"></label>
  <button id="save">Use key</button>
  <label>Project <select id="f-project"><option value="">all</option></select></label>
  <label>Platform <select id="f-platform"><option value="">all</option></select></label>
  <label>Status <select id="f-status"><option value="">all</option></select></label>
  <span id="error" role="alert"></span>
  <span id="live">not connected</span>
</header>
<main>
  <section class="wide"><h2>Overview</h2><div id="cards" class="cards"></div></section>
  <section><h2>Builds</h2>
    <table><thead><tr><th>Build</th><th>Project</th><th>Platform</th><th>Image</th><th>State</th><th>Progress</th><th>ETA</th><th>Status</th></tr></thead>
    <tbody id="builds"></tbody></table>
  </section>
  <section><h2>Needs attention</h2><ul id="attention" class="muted"><li>nothing stuck or blocked</li></ul>
    <h2>Events</h2><div id="events"><ul><li class="muted">waiting for events…</li></ul></div>
  </section>
  <section class="wide"><h2>Timeline <span id="tl-title" class="muted">(click a build)</span></h2><div id="timeline"></div></section>
</main>
<script>
(function () {
  'use strict';
  var STATUSES = ['pending', 'in_progress', 'failed', 'blocked', 'completed', 'cancelled'];
  var state = { key: localStorage.getItem('buildstate.key') || '', selected: null, eventsAfter: 0,
    eventsAvailable: true, stuck: {}, eta: {}, timer: null, parents: {}, expanded: {} };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'style') node.setAttribute('style', attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function duration(seconds) {
    if (seconds < 90) return seconds + ' s';
    if (seconds < 5400) return Math.round(seconds / 60) + ' min';
    return (seconds / 3600).toFixed(1) + ' h';
  }
  /** Work avoided: seconds as "45 s", "12 min", "2 h 5 min", "43 h". */
  function hours(seconds) {
    if (seconds < 60) return seconds + ' s';
    if (seconds < 3600) return Math.round(seconds / 60) + ' min';
    var h = Math.floor(seconds / 3600);
    var m = Math.round((seconds % 3600) / 60);
    return h >= 10 || m === 0 || m === 60 ? Math.round(seconds / 3600) + ' h' : h + ' h ' + m + ' min';
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function badge(status) { return el('span', { 'class': 'badge s-' + status, text: status.replace('_', ' ') }); }

  function api(path) {
    return fetch(path, { headers: { 'x-api-key': state.key } }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) {
          var err = new Error((body.error && body.error.message) || ('HTTP ' + res.status));
          err.status = res.status;
          throw err;
        }
        return body;
      });
    });
  }

  function fillSelect(select, values) {
    var current = select.value;
    var have = {};
    Array.prototype.forEach.call(select.options, function (o) { have[o.value] = true; });
    values.forEach(function (v) { if (!have[v]) select.appendChild(el('option', { value: v, text: v })); });
    select.value = current;
  }

  function renderSummary(s) {
    var cards = $('cards');
    clear(cards);
    cards.appendChild(el('div', { 'class': 'card' }, [el('b', { text: String(s.builds.total) }), el('span', { text: 'builds' })]));
    STATUSES.forEach(function (st) {
      cards.appendChild(el('div', { 'class': 'card', 'data-count': st }, [
        el('b', { text: String(s.builds.by_status[st] || 0) }), badge(st)]));
    });
    cards.appendChild(el('div', { 'class': 'card', 'data-count': 'fanned_out', title: 'fork parents waiting on their children' }, [
      el('b', { text: String(s.builds.fanned_out) }), el('span', { text: 'fanned out' })]));
    var week = s.work_avoided[0];
    var month = s.work_avoided[1];
    cards.appendChild(el('div', { 'class': 'card', id: 'work-avoided', 'data-seconds': String(week.total_s),
      title: (month ? hours(month.total_s) + ' in ' + month.window_days + ' days; ' : '') + 'by platform this week: ' +
        (Object.keys(week.by_platform).map(function (p) { return p + ' ' + hours(week.by_platform[p]); }).join(', ') || 'none') }, [
      el('b', { text: hours(week.total_s) }), el('span', { text: 'not re-run this week' })]));
    var rate = s.success_rate_7d.build_success_rate;
    cards.appendChild(el('div', { 'class': 'card' }, [
      el('b', { text: rate === null ? '–' : Math.round(rate * 100) + '%' }), el('span', { text: 'success, 7 days' })]));
    fillSelect($('f-platform'), Object.keys(s.builds.by_platform));
    var stuck = {};
    var eta = {};
    s.active.items.forEach(function (a) {
      if (a.stuck.length) stuck[a.build_id] = a.stuck;
      if (a.eta_s !== null) eta[a.build_id] = a.eta_s;
    });
    state.stuck = stuck;
    state.eta = eta;
  }

  /** The parent's roll-up line: "4/6 completed · 70–100% · 1 failed". */
  function rollupText(c) {
    var text = c.by_status.completed + '/' + c.total + ' completed';
    if (c.lowest_progress_percent !== null) text += ' · ' + (c.lowest_progress_percent === c.highest_progress_percent
      ? c.lowest_progress_percent + '%' : c.lowest_progress_percent + '–' + c.highest_progress_percent + '%');
    ['failed', 'blocked', 'cancelled'].forEach(function (st) { if (c.by_status[st]) text += ' · ' + c.by_status[st] + ' ' + st; });
    return text;
  }

  /** Rows in list order, each parent's children (from the page, or its children page once expanded) right under it. */
  function renderBuilds(items, parents, pages) {
    var body = $('builds');
    clear(body);
    fillSelect($('f-project'), items.map(function (b) { return b.project_id; }));
    if (!items.length) body.appendChild(el('tr', {}, [el('td', { colspan: '8', 'class': 'muted', text: 'no builds' })]));
    var kids = {};
    items.concat(Object.keys(pages).reduce(function (all, id) { return all.concat(pages[id].items); }, [])).forEach(function (b) {
      if (!b.parent_id || !parents[b.parent_id]) return;
      kids[b.parent_id] = kids[b.parent_id] || {};
      kids[b.parent_id][b.id] = b;
    });
    items.forEach(function (b) {
      if (b.parent_id && parents[b.parent_id]) return;
      addRow(body, b, parents[b.id]);
      var mine = kids[b.id] ? Object.keys(kids[b.id]).sort().map(function (id) { return kids[b.id][id]; }) : [];
      mine.forEach(function (c) { addRow(body, c, parents[c.id]); });
      var total = parents[b.id] && parents[b.id].children ? parents[b.id].children.total : 0;
      var more = (pages[b.id] && pages[b.id].next_cursor) || (!pages[b.id] && total > mine.length);
      if (more) {
        var link = el('button', { 'data-more-children': b.id, text: pages[b.id] ? 'more than 100 children: see GET /builds/' + b.id + '/children'
          : 'show all ' + total + ' children (' + mine.length + ' shown)' });
        link.addEventListener('click', function () { state.expanded[b.id] = true; refresh(); });
        body.appendChild(el('tr', { 'class': 'child' }, [el('td', { colspan: '8' }, [link])]));
      }
    });
  }

  function addRow(body, b, parent) {
    var stuck = state.stuck[b.id];
    var attention = b.status === 'blocked' || !!stuck;
    var child = b.parent_id && state.parents[b.parent_id];
    var failedChild = child && (b.status === 'failed' || b.status === 'blocked');
    var cls = 'build' + (attention ? ' attention' : '') + (child ? ' child' : '') + (failedChild ? ' child-failed' : '');
    var rollup = parent && parent.children;
    var row = el('tr', { 'class': cls, 'data-build-id': b.id, 'data-status': b.status, 'data-parent-id': b.parent_id || '' }, [
      el('td', { text: (child ? '↳ ' : '') + (failedChild ? '✕ ' : '') + b.id, title: child ? 'child of ' + b.parent_id : '' }),
      el('td', { text: b.project_id }),
      el('td', { text: b.platform_id }),
      el('td', { text: b.image_type_id }),
      el('td', { text: b.current_state + (b.state_name ? ' ' + b.state_name : '') + (b.state_status ? ' (' + b.state_status + ')' : '') }),
      el('td', {}, [el('div', { 'class': 'bar', 'data-progress': String(b.progress_percent), title: b.progress_percent + '%' }, [
        el('span', { 'class': 's-' + b.status, style: 'width:' + b.progress_percent + '%' })]),
        el('span', { 'class': 'pct', text: b.progress_percent + '%' }),
        rollup ? el('div', { 'class': 'rollup muted', 'data-rollup': b.id, text: 'children: ' + rollupText(rollup) }) : null]),
      el('td', { 'class': 'muted', 'data-eta': b.id, text: b.id in state.eta ? duration(state.eta[b.id]) : '' }),
      el('td', {}, [badge(b.status), stuck ? el('span', { 'class': 'stuck', text: ' stuck: ' + stuck.join(', ') }) : null,
        failedChild ? el('span', { 'class': 'stuck', text: ' child ' + b.status + ' at ' + b.current_state }) : null])
    ]);
    row.addEventListener('click', function () { state.selected = b.id; loadTimeline(); });
    body.appendChild(row);
  }

  function renderAttention(stuckItems, blocked) {
    var list = $('attention');
    clear(list);
    stuckItems.forEach(function (s) {
      list.appendChild(el('li', { 'class': 'stuck', 'data-stuck': s.build_id, text: s.build_id + ': state ' + s.state_code +
        ' attempt ' + s.attempt + ' ' + s.kinds.join(' + ') + ' (silent ' + s.silent_s + ' s, running ' + s.running_s + ' s)' }));
    });
    blocked.forEach(function (b) {
      list.appendChild(el('li', { 'class': 'stuck', 'data-blocked': b.id, text: b.id + ': blocked at state ' + b.current_state +
        (b.last_error ? ': ' + b.last_error : '') }));
    });
    if (!list.firstChild) list.appendChild(el('li', { 'class': 'muted', text: 'nothing stuck or blocked' }));
  }

  /** Attempts as segments: an in_progress report opens one, completed/failed closes it. */
  function renderTimeline(build, history) {
    var box = $('timeline');
    clear(box);
    $('tl-title').textContent = build.id + ' (' + build.status + ')';
    var segs = [];
    var open = {};
    history.forEach(function (h) {
      if (h.event !== 'state_reported') return;
      var t = Date.parse(h.recorded_at);
      var key = h.state_code + '#' + h.attempt;
      if (h.status === 'in_progress') { open[key] = { code: h.state_code, name: h.state_name, attempt: h.attempt, start: t, end: null, status: 'in_progress', error: null }; segs.push(open[key]); return; }
      var seg = open[key];
      if (!seg) { seg = { code: h.state_code, name: h.state_name, attempt: h.attempt, start: t, end: t, status: h.status }; segs.push(seg); }
      seg.end = t; seg.status = h.status; seg.error = h.error; delete open[key];
    });
    if (!segs.length) { box.appendChild(el('p', { 'class': 'muted', text: 'no state reported yet' })); return; }
    var now = Date.now();
    var t0 = Math.min.apply(null, segs.map(function (s) { return s.start; }));
    var t1 = Math.max.apply(null, segs.map(function (s) { return s.end || now; }));
    var span = Math.max(1, t1 - t0);
    var lanes = {};
    var order = [];
    segs.forEach(function (s) { if (!lanes[s.code]) { lanes[s.code] = []; order.push(s); } lanes[s.code].push(s); });
    order.sort(function (a, b) { return a.code - b.code; }).forEach(function (first) {
      var lane = el('div', { 'class': 'lane' });
      lanes[first.code].forEach(function (s) {
        var left = ((s.start - t0) / span) * 100;
        var width = (((s.end || now) - s.start) / span) * 100;
        lane.appendChild(el('div', { 'class': 'seg ' + s.status, 'data-attempt': s.code + '#' + s.attempt, 'data-status': s.status,
          style: 'left:' + left + '%;width:' + width + '%', title: 'attempt ' + s.attempt + ': ' + s.status + (s.error ? ' – ' + s.error : '') }));
        if (s.status === 'failed') lane.appendChild(el('span', { 'class': 'mark', style: 'left:calc(' + (left + width) + '% - 4px)', text: '✕' }));
      });
      box.appendChild(el('div', { 'class': 'row', 'data-state': String(first.code) }, [
        el('div', { 'class': 'label', text: first.code + ' ' + (first.name || '') }), lane]));
    });
  }

  function loadTimeline() {
    if (!state.selected) return Promise.resolve();
    var id = encodeURIComponent(state.selected);
    return Promise.all([api('/builds/' + id), api('/builds/' + id + '/history?limit=500')])
      .then(function (r) { renderTimeline(r[0], r[1].items); });
  }

  function pollEvents() {
    if (!state.eventsAvailable) return Promise.resolve();
    return api('/local/events?after=' + state.eventsAfter).then(function (r) {
      var list = $('events').firstChild;
      if (r.items.length && state.eventsAfter === 0) clear(list);
      r.items.forEach(function (e) {
        var d = e.detail;
        var text = e.detailType === 'Build State Changed'
          ? d.build_id + ': ' + d.from.state + ' → ' + d.to.state + ' ' + (d.to.state_status || d.change) + ' (' + d.to.build_status + ')'
          : e.detailType === 'Build Forked' ? d.build_id + ': forked from ' + d.parent_id + ' at state ' + d.at_state
          : d.build_id + ': ' + e.detailType + (d.kind ? ' (' + d.kind + ')' : '') + ' at state ' + d.state_code;
        list.insertBefore(el('li', { 'data-detail-type': e.detailType, text: e.time.slice(11, 19) + ' ' + text }), list.firstChild);
      });
      state.eventsAfter = r.last_seq;
    }).catch(function (err) { if (err.status === 404) { state.eventsAvailable = false; $('events').textContent = 'Live events come from the local gateway; in AWS, subscribe to the EventBridge bus.'; } });
  }

  function refresh() {
    if (!state.key) { $('live').textContent = 'paste an API key'; return; }
    var q = [];
    if ($('f-project').value) q.push('project_id=' + encodeURIComponent($('f-project').value));
    if ($('f-platform').value) q.push('platform_id=' + encodeURIComponent($('f-platform').value));
    if ($('f-status').value) q.push('status=' + encodeURIComponent($('f-status').value));
    q.push('limit=100');
    return api('/dashboard/summary').then(function (s) {
      renderSummary(s);
      return Promise.all([api('/builds?' + q.join('&')), api('/dashboard/stuck'), api('/builds?status=blocked&limit=50')]);
    }).then(function (r) {
      // Parents of the page's children (at most 20): one GET each for the roll-up; all children
      // of a parent only once asked ("show all"), one page of at most 100.
      var items = r[0].items;
      var listed = {};
      items.forEach(function (b) { listed[b.id] = true; });
      var ids = [];
      items.forEach(function (b) { if (b.parent_id && listed[b.parent_id] && ids.indexOf(b.parent_id) < 0) ids.push(b.parent_id); });
      ids = ids.slice(0, 20);
      var open = ids.filter(function (id) { return state.expanded[id]; });
      return Promise.all([
        Promise.all(ids.map(function (id) { return api('/builds/' + encodeURIComponent(id)); })),
        Promise.all(open.map(function (id) { return api('/builds/' + encodeURIComponent(id) + '/children?limit=100'); }))
      ]).then(function (f) {
        var parents = {};
        f[0].forEach(function (p) { parents[p.id] = p; });
        var pages = {};
        open.forEach(function (id, i) { pages[id] = f[1][i]; });
        state.parents = parents;
        renderBuilds(items, parents, pages);
        return r;
      });
    }).then(function (r) {
      renderAttention(r[1].items, r[2].items);
      return Promise.all([loadTimeline(), pollEvents()]);
    }).then(function () {
      $('error').textContent = '';
      $('live').textContent = 'live · updated ' + new Date().toLocaleTimeString();
      document.body.setAttribute('data-loaded', 'true');
    }).catch(function (err) { $('error').textContent = err.message; $('live').textContent = 'error'; });
  }

  STATUSES.forEach(function (s) { $('f-status').appendChild(el('option', { value: s, text: s })); });
  ['f-project', 'f-platform', 'f-status'].forEach(function (id) { $(id).addEventListener('change', refresh); });
  $('key').value = state.key;
  $('save').addEventListener('click', function () {
    state.key = $('key').value.trim();
    localStorage.setItem('buildstate.key', state.key);
    refresh();
  });
  refresh();
  state.timer = setInterval(refresh, 2000);
})();
</script>
</body>
</html>
`;
