/**
 * The web dashboard's script (bundled by esbuild into web/dashboard.js; see scripts/build-web.mjs).
 * It calls the same API as every client, with the key the user pastes (kept in this browser's
 * localStorage under `buildstate.key`), and refreshes itself. Every value from the API is
 * inserted as text, never HTML. All times are shown in UTC.
 */
import { channelsPanel } from './channels';
import { annotateTimeline, type BuildCost, renderCostCards } from './costs';
import { ApiError, type Attrs, clear, el, type Revocable, revokedMark, revokedText } from './dom';

/** The build a `#build=<id>` deep link names, or null. */
function buildFromHash(): string | null {
  const m = /^#build=(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

type Status = 'pending' | 'in_progress' | 'failed' | 'blocked' | 'completed' | 'cancelled';
const STATUSES: Status[] = ['pending', 'in_progress', 'failed', 'blocked', 'completed', 'cancelled'];

interface Rollup {
  total: number;
  by_status: Record<Status, number>;
  lowest_progress_percent: number | null;
  highest_progress_percent: number | null;
}
interface Build extends Revocable {
  id: string;
  cost?: BuildCost;
  parent_id?: string | null;
  project_id: string;
  platform_id: string;
  image_type_id: string;
  status: Status;
  current_state: number;
  state_name?: string | null;
  state_status?: string | null;
  progress_percent: number;
  last_error?: string | null;
  metadata?: unknown;
  children?: Rollup;
}
interface Platform {
  id: string;
  cloud_provider?: string | null;
  region?: string | null;
  partition?: string | null;
}
interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}
interface WorkAvoided {
  total_s: number;
  window_days: number;
  by_platform: Record<string, number>;
}
interface Summary {
  builds: {
    total: number;
    by_status: Record<string, number>;
    by_platform: Record<string, number>;
    fanned_out: number;
  };
  work_avoided: WorkAvoided[];
  success_rate_7d: { build_success_rate: number | null };
  active: { items: { build_id: string; stuck: string[]; eta_s: number | null }[] };
}
interface Stuck {
  build_id: string;
  state_code: number;
  attempt: number;
  kinds: string[];
  silent_s: number;
  running_s: number;
}
interface HistoryItem {
  event: string;
  recorded_at: string;
  state_code: number;
  state_name?: string;
  attempt: number;
  status: string;
  error?: string;
}
interface LiveEvent {
  detailType: string;
  time: string;
  detail: {
    build_id: string;
    parent_id?: string;
    at_state?: number;
    kind?: string;
    state_code?: number;
    change?: string;
    // Lineage and channel events (Build Revoked/Restored, Channel Updated, Image Published).
    reason?: string | null;
    root_id?: string;
    channel?: string;
    version?: number;
    cloud?: string;
    region?: string;
    image_id?: string;
    from: { state: number };
    to: { state: number; state_status?: string; build_status: string };
  };
}
interface Segment {
  code: number;
  name?: string;
  attempt: number;
  start: number;
  end: number | null;
  status: string;
  error?: string;
}

const state = {
  key: localStorage.getItem('buildstate.key') ?? '',
  // A deep link `#build=<id>` opens that build's timeline.
  selected: buildFromHash(),
  eventsAfter: 0,
  eventsAvailable: true,
  stuck: {} as Record<string, string[]>,
  eta: {} as Record<string, number>,
  parents: {} as Record<string, Build>,
  expanded: {} as Record<string, boolean>,
  platforms: new Map<string, Platform>(),
};

// A fork child's target, the CLI's rule (cli/target.ts, mirrored: web/ takes no CLI code): the
// fork's `metadata.cloud`/`metadata.region`, else its platform's partition (or cloud) and region.
const labelText = (v: unknown) =>
  typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : '';

function metadataLabel(b: Build): string {
  const m = b.metadata && typeof b.metadata === 'object' ? (b.metadata as Record<string, unknown>) : {};
  return [labelText(m.cloud), labelText(m.region)].filter(Boolean).join('/');
}

function targetLabel(b: Build): string {
  const p = state.platforms.get(b.platform_id);
  return (
    metadataLabel(b) ||
    (p?.region ? [p.partition || p.cloud_provider, p.region].filter(Boolean).join('/') : '')
  );
}

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`no #${id} on the page`);
  return node as T;
}

/** The timeline panel: right below the selected row, or in its own place at the foot of the page. */
const panel = $('timeline-panel');
const panelHome = { parent: panel.parentNode as Node, next: panel.nextSibling };

function placeTimeline(): void {
  const row = state.selected
    ? document.querySelector(`tr.build[data-build-id="${CSS.escape(state.selected)}"]`)
    : null;
  document.querySelector('tr.timeline-row')?.remove();
  if (!row) {
    if (panel.parentNode !== panelHome.parent) panelHome.parent.insertBefore(panel, panelHome.next);
    return;
  }
  const holder = el('tr', { class: 'timeline-row' }, [el('td', { colspan: '8' }, [panel])]);
  row.after(holder);
}

function duration(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Work avoided: seconds as "45 s", "12 min", "2 h 5 min", "43 h". */
function hours(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h >= 10 || m === 0 || m === 60 ? `${Math.round(seconds / 3600)} h` : `${h} h ${m} min`;
}

/** A time of day in UTC, the page's one time zone: "22:24:57". */
function utcTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function badge(status: string): HTMLElement {
  return el('span', { class: `badge s-${status}`, text: status.replace('_', ' ') });
}

async function api<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { 'x-api-key': state.key } });
  } catch {
    throw new ApiError('the API could not be reached', 0);
  }
  const body = (await res.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string; details?: Record<string, unknown> };
  };
  if (!res.ok)
    throw new ApiError(
      body.error?.message ?? `HTTP ${res.status}`,
      res.status,
      body.error?.code,
      body.error?.details,
    );
  return body as T;
}

/** Adds the values the select does not list yet, each once, keeping the current choice. */
function fillSelect(select: HTMLSelectElement, values: string[]): void {
  const current = select.value;
  const have = new Set(Array.from(select.options, (o) => o.value));
  for (const v of values) {
    if (have.has(v)) continue;
    have.add(v);
    select.appendChild(el('option', { value: v, text: v }));
  }
  select.value = current;
}

function card(count: string, label: Node, attrs: Attrs = {}): HTMLElement {
  return el('div', { class: 'card', ...attrs }, [el('b', { text: count }), label]);
}

function renderSummary(s: Summary): void {
  const cards = $('cards');
  clear(cards);
  cards.appendChild(card(String(s.builds.total), el('span', { text: 'builds' })));
  for (const st of STATUSES)
    cards.appendChild(card(String(s.builds.by_status[st] ?? 0), badge(st), { 'data-count': st }));
  cards.appendChild(
    card(String(s.builds.fanned_out), el('span', { text: 'fanned out' }), {
      'data-count': 'fanned_out',
      title: 'fork parents waiting on their children',
    }),
  );
  const [week, month] = s.work_avoided;
  const byPlatform =
    Object.entries(week.by_platform)
      .map(([p, v]) => `${p} ${hours(v)}`)
      .join(', ') || 'none';
  cards.appendChild(
    card(hours(week.total_s), el('span', { text: 'not re-run this week' }), {
      id: 'work-avoided',
      'data-seconds': String(week.total_s),
      title: `${month ? `${hours(month.total_s)} in ${month.window_days} days; ` : ''}by platform this week: ${byPlatform}`,
    }),
  );
  const rate = s.success_rate_7d.build_success_rate;
  cards.appendChild(
    card(rate === null ? '–' : `${Math.round(rate * 100)}%`, el('span', { text: 'success, 7 days' })),
  );
  fillSelect($<HTMLSelectElement>('f-platform'), Object.keys(s.builds.by_platform));
  const stuck: Record<string, string[]> = {};
  const eta: Record<string, number> = {};
  for (const a of s.active.items) {
    if (a.stuck.length) stuck[a.build_id] = a.stuck;
    if (a.eta_s !== null) eta[a.build_id] = a.eta_s;
  }
  state.stuck = stuck;
  state.eta = eta;
}

/** The parent's roll-up line: "4/6 completed · 70–100% · 1 failed". */
function rollupText(c: Rollup): string {
  let text = `${c.by_status.completed}/${c.total} completed`;
  if (c.lowest_progress_percent !== null)
    text += ` · ${
      c.lowest_progress_percent === c.highest_progress_percent
        ? `${c.lowest_progress_percent}%`
        : `${c.lowest_progress_percent}–${c.highest_progress_percent}%`
    }`;
  for (const st of ['failed', 'blocked', 'cancelled'] as const)
    if (c.by_status[st]) text += ` · ${c.by_status[st]} ${st}`;
  return text;
}

/** Rows in list order, each parent's children (from the page, or its children page once expanded) right under it. */
function renderBuilds(
  items: Build[],
  parents: Record<string, Build>,
  pages: Record<string, Page<Build>>,
): void {
  const body = $('builds');
  clear(body);
  fillSelect(
    $<HTMLSelectElement>('f-project'),
    items.map((b) => b.project_id),
  );
  if (!items.length)
    body.appendChild(el('tr', {}, [el('td', { colspan: '8', class: 'muted', text: 'no builds' })]));
  const kids: Record<string, Record<string, Build>> = {};
  for (const b of [...items, ...Object.values(pages).flatMap((p) => p.items)]) {
    if (!b.parent_id || !parents[b.parent_id]) continue;
    kids[b.parent_id] ??= {};
    kids[b.parent_id][b.id] = b;
  }
  for (const b of items) {
    if (b.parent_id && parents[b.parent_id]) continue;
    addRow(body, b, parents[b.id]);
    const mine = kids[b.id]
      ? Object.keys(kids[b.id])
          .sort()
          .map((id) => kids[b.id][id])
      : [];
    for (const c of mine) addRow(body, c, parents[c.id]);
    const total = parents[b.id]?.children?.total ?? 0;
    const more = pages[b.id]?.next_cursor || (!pages[b.id] && total > mine.length);
    if (more) {
      const link = el('button', {
        'data-more-children': b.id,
        text: pages[b.id]
          ? `more than 100 children: see GET /builds/${b.id}/children`
          : `show all ${total} children (${mine.length} shown)`,
      });
      link.addEventListener('click', () => {
        state.expanded[b.id] = true;
        void refresh();
      });
      body.appendChild(el('tr', { class: 'child' }, [el('td', { colspan: '8' }, [link])]));
    }
  }
  placeTimeline();
}

function addRow(body: HTMLElement, b: Build, parent: Build | undefined): void {
  const stuck = state.stuck[b.id];
  const attention = b.status === 'blocked' || !!stuck;
  const child = !!b.parent_id && !!state.parents[b.parent_id];
  const failedChild = child && (b.status === 'failed' || b.status === 'blocked');
  const cls = `build${b.id === state.selected ? ' selected' : ''}${attention ? ' attention' : ''}${child ? ' child' : ''}${failedChild ? ' child-failed' : ''}${b.revoked_at ? ' revoked' : ''}`;
  const rollup = parent?.children;
  // No ETA for a build that is not moving forward.
  const showEta = b.id in state.eta && b.status !== 'failed' && b.status !== 'blocked';
  const row = el(
    'tr',
    { class: cls, 'data-build-id': b.id, 'data-status': b.status, 'data-parent-id': b.parent_id ?? '' },
    [
      el('td', {
        text: `${child ? '↳ ' : ''}${failedChild ? '✕ ' : ''}${b.id}`,
        title: child ? `child of ${b.parent_id}` : '',
      }),
      el('td', { text: b.project_id }),
      el('td', {}, [
        document.createTextNode(b.platform_id),
        child && targetLabel(b)
          ? el('div', { class: 'target', 'data-target': b.id, text: targetLabel(b) })
          : null,
      ]),
      el('td', { text: b.image_type_id }),
      el('td', {
        text: `${b.current_state}${b.state_name ? ` ${b.state_name}` : ''}${b.state_status ? ` (${b.state_status})` : ''}`,
      }),
      el('td', {}, [
        el(
          'div',
          { class: 'bar', 'data-progress': String(b.progress_percent), title: `${b.progress_percent}%` },
          [el('span', { class: `s-${b.status}`, style: `width:${b.progress_percent}%` })],
        ),
        el('span', { class: 'pct', text: `${b.progress_percent}%` }),
        rollup
          ? el('div', { class: 'rollup muted', 'data-rollup': b.id, text: `children: ${rollupText(rollup)}` })
          : null,
      ]),
      el('td', { class: 'muted', 'data-eta': b.id, text: showEta ? duration(state.eta[b.id]) : '' }),
      el('td', {}, [
        badge(b.status),
        revokedMark(b, b.id),
        stuck ? el('span', { class: 'stuck', text: ` stuck: ${stuck.join(', ')}` }) : null,
        failedChild ? el('span', { class: 'stuck', text: ` child ${b.status} at ${b.current_state}` }) : null,
      ]),
    ],
  );
  row.addEventListener('click', () => {
    select(b.id);
  });
  body.appendChild(row);
}

/** Highlights the build's row, names it in the address (`#build=<id>`) and loads its timeline. */
function select(id: string): void {
  state.selected = id;
  if (location.hash !== `#build=${encodeURIComponent(id)}`)
    history.replaceState(null, '', `#build=${encodeURIComponent(id)}`);
  for (const row of Array.from(document.querySelectorAll('tr.build')))
    row.classList.toggle('selected', row.getAttribute('data-build-id') === id);
  placeTimeline();
  void loadTimeline();
}

/** `listed`: the builds on the page, whose revoked marks a stuck item (an id only) borrows. */
function renderAttention(stuckItems: Stuck[], blocked: Build[], listed: Build[]): void {
  const list = $('attention');
  clear(list);
  const known = new Map([...listed, ...blocked].map((b) => [b.id, b]));
  const mark = (id: string) => {
    const m = revokedMark(known.get(id) ?? {}, id);
    return m ? [document.createTextNode(' '), m] : [];
  };
  for (const s of stuckItems)
    list.appendChild(
      el(
        'li',
        {
          class: 'stuck',
          'data-stuck': s.build_id,
          text: `${s.build_id}: state ${s.state_code} attempt ${s.attempt} ${s.kinds.join(' + ')} (silent ${s.silent_s} s, running ${s.running_s} s)`,
        },
        mark(s.build_id),
      ),
    );
  for (const b of blocked)
    list.appendChild(
      el(
        'li',
        {
          class: 'stuck',
          'data-blocked': b.id,
          text: `${b.id}: blocked at state ${b.current_state}${b.last_error ? `: ${b.last_error}` : ''}`,
        },
        mark(b.id),
      ),
    );
  if (!list.firstChild) list.appendChild(el('li', { class: 'muted', text: 'nothing stuck or blocked' }));
}

/** Without an answer from the API, nothing is known: say so instead of "nothing stuck or blocked". */
function renderUnknown(message: string): void {
  const list = $('attention');
  clear(list);
  list.appendChild(el('li', { class: 'error', 'data-unknown': 'true', text: `unknown: ${message}` }));
}

/** Attempts as segments: an in_progress report opens one, completed/failed closes it. */
function renderTimeline(build: Build, history: HistoryItem[]): void {
  const box = $('timeline');
  clear(box);
  $('tl-title').textContent = `${build.id} (${build.status}) `;
  const mark = revokedMark(build, build.id);
  if (mark) {
    $('tl-title').appendChild(mark);
    box.appendChild(
      el('p', { class: 'revoked-note', 'data-timeline-revoked': build.id, text: revokedText(build) }),
    );
  }
  const segs: Segment[] = [];
  const open: Record<string, Segment> = {};
  for (const h of history) {
    if (h.event !== 'state_reported') continue;
    const t = Date.parse(h.recorded_at);
    const key = `${h.state_code}#${h.attempt}`;
    if (h.status === 'in_progress') {
      open[key] = {
        code: h.state_code,
        name: h.state_name,
        attempt: h.attempt,
        start: t,
        end: null,
        status: 'in_progress',
      };
      segs.push(open[key]);
      continue;
    }
    let seg = open[key];
    if (!seg) {
      seg = {
        code: h.state_code,
        name: h.state_name,
        attempt: h.attempt,
        start: t,
        end: t,
        status: h.status,
      };
      segs.push(seg);
    }
    seg.end = t;
    seg.status = h.status;
    seg.error = h.error;
    delete open[key];
  }
  if (!segs.length) {
    box.appendChild(el('p', { class: 'muted', text: 'no state reported yet' }));
    return;
  }
  const now = Date.now();
  const t0 = Math.min(...segs.map((s) => s.start));
  const t1 = Math.max(...segs.map((s) => s.end ?? now));
  const span = Math.max(1, t1 - t0);
  const lanes = new Map<number, Segment[]>();
  for (const s of segs) {
    const lane = lanes.get(s.code) ?? [];
    lane.push(s);
    lanes.set(s.code, lane);
  }
  // The time axis: start, middle and end of the span, in UTC.
  const axis = el('div', { class: 'lane axis' });
  for (const f of [0, 0.5, 1])
    axis.appendChild(
      el('span', {
        class: 'tick',
        'data-tick': String(f),
        style: `left:${f * 100}%`,
        text: utcTime(t0 + f * span),
      }),
    );
  box.appendChild(
    el('div', { class: 'row axis-row' }, [el('div', { class: 'label muted', text: 'UTC' }), axis]),
  );
  for (const code of [...lanes.keys()].sort((a, b) => a - b)) {
    const mine = lanes.get(code) ?? [];
    const lane = el('div', { class: 'lane' });
    for (const s of mine) {
      const left = ((s.start - t0) / span) * 100;
      const width = (((s.end ?? now) - s.start) / span) * 100;
      lane.appendChild(
        el('div', {
          class: `seg ${s.status}`,
          'data-attempt': `${s.code}#${s.attempt}`,
          'data-status': s.status,
          style: `left:${left}%;width:${width}%`,
          title: `attempt ${s.attempt}: ${s.status}${s.error ? ` – ${s.error}` : ''} (${utcTime(s.start)}–${utcTime(s.end ?? now)} UTC)`,
        }),
      );
      if (s.status === 'failed')
        lane.appendChild(
          el('span', { class: 'mark', style: `left:calc(${left + width}% - 4px)`, text: '✕' }),
        );
    }
    box.appendChild(
      el('div', { class: 'row', 'data-state': String(code) }, [
        el('div', { class: 'label', text: `${code} ${mine[0].name ?? ''}` }),
        lane,
      ]),
    );
  }
}

async function loadTimeline(): Promise<void> {
  if (!state.selected) return;
  const id = encodeURIComponent(state.selected);
  const [build, history] = await Promise.all([
    api<Build>(`/builds/${id}`),
    api<Page<HistoryItem>>(`/builds/${id}/history?limit=500`),
  ]);
  renderTimeline(build, history.items);
  annotateTimeline(build.cost);
}

function eventText(e: LiveEvent): string {
  const d = e.detail;
  if (e.detailType === 'Build State Changed')
    return `${d.build_id}: ${d.from.state} → ${d.to.state} ${d.to.state_status || d.change} (${d.to.build_status})`;
  if (e.detailType === 'Build Forked')
    return `${d.build_id}: forked from ${d.parent_id} at state ${d.at_state}`;
  if (e.detailType === 'Build Revoked' || e.detailType === 'Build Restored') {
    const via = d.root_id && d.root_id !== d.build_id ? ` (via ${d.root_id})` : '';
    const verb = e.detailType === 'Build Revoked' ? 'revoked' : 'restored';
    return `${d.build_id}: ${verb}${via}${d.reason ? `: ${d.reason}` : ''}`;
  }
  if (e.detailType === 'Channel Updated')
    return `channel ${d.channel} v${d.version} → ${d.build_id}${d.reason ? `: ${d.reason}` : ''}`;
  if (e.detailType === 'Image Published') return `${d.build_id}: image ${d.cloud} ${d.region} ${d.image_id}`;
  return `${d.build_id}: ${e.detailType}${d.kind ? ` (${d.kind})` : ''} at state ${d.state_code}`;
}

async function pollEvents(): Promise<void> {
  if (!state.eventsAvailable) return;
  try {
    const r = await api<{ items: LiveEvent[]; last_seq: number }>(`/local/events?after=${state.eventsAfter}`);
    const list = $('events').firstChild as HTMLElement;
    if (r.items.length && state.eventsAfter === 0) clear(list);
    for (const e of r.items)
      list.insertBefore(
        el('li', { 'data-detail-type': e.detailType, text: `${e.time.slice(11, 19)} ${eventText(e)}` }),
        list.firstChild,
      );
    state.eventsAfter = r.last_seq;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      state.eventsAvailable = false;
      $('events').textContent =
        'Live events come from the local gateway; in AWS, subscribe to the EventBridge bus.';
    }
  }
}

function explain(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  if (err.status === 401) return `the key was refused (${err.message})`;
  if (err.status === 403) return `the key may not read builds (${err.message})`;
  return err.message;
}

async function refresh(): Promise<void> {
  if (!state.key) {
    $('live').textContent = 'paste an API key';
    renderUnknown('no API key: paste one above');
    return;
  }
  const q = new URLSearchParams();
  for (const [name, id] of [
    ['project_id', 'f-project'],
    ['platform_id', 'f-platform'],
    ['status', 'f-status'],
  ] as const) {
    const v = $<HTMLSelectElement>(id).value;
    if (v) q.set(name, v);
  }
  q.set('limit', '100');
  try {
    renderSummary(await api<Summary>('/dashboard/summary'));
    await renderCostCards(api);
    const [list, stuck, blocked] = await Promise.all([
      api<Page<Build>>(`/builds?${q}`),
      api<Page<Stuck>>('/dashboard/stuck'),
      api<Page<Build>>('/builds?status=blocked&limit=50'),
    ]);
    // Parents of the page's children (at most 20): one GET each for the roll-up; all children
    // of a parent only once asked ("show all"), one page of at most 100.
    const items = list.items;
    const listed = new Set(items.map((b) => b.id));
    const ids = [
      ...new Set(items.flatMap((b) => (b.parent_id && listed.has(b.parent_id) ? [b.parent_id] : []))),
    ].slice(0, 20);
    const open = ids.filter((id) => state.expanded[id]);
    const [parentList, childPages] = await Promise.all([
      Promise.all(ids.map((id) => api<Build>(`/builds/${encodeURIComponent(id)}`))),
      Promise.all(open.map((id) => api<Page<Build>>(`/builds/${encodeURIComponent(id)}/children?limit=100`))),
    ]);
    const parents: Record<string, Build> = {};
    for (const p of parentList) parents[p.id] = p;
    const pages: Record<string, Page<Build>> = {};
    open.forEach((id, i) => {
      pages[id] = childPages[i];
    });
    state.parents = parents;
    // The platforms, only when a child's fork named no target (a failure leaves labels empty).
    if (!state.platforms.size && items.some((b) => b.parent_id && !metadataLabel(b))) {
      const platforms = await api<Page<Platform>>('/platforms?include_deactivated=true&limit=100').catch(
        () => null,
      );
      if (platforms) state.platforms = new Map(platforms.items.map((p) => [p.id, p]));
    }
    renderBuilds(items, parents, pages);
    renderAttention(stuck.items, blocked.items, items);
    await Promise.all([loadTimeline(), pollEvents(), channels.refresh()]);
    $('error').textContent = '';
    $('live').textContent = `live · updated ${utcTime(Date.now())} UTC`;
    document.body.setAttribute('data-loaded', 'true');
  } catch (err) {
    const message = explain(err);
    $('error').textContent = message;
    $('live').textContent = 'error';
    renderUnknown(message);
  }
}

const channels = channelsPanel($('channels'), { api, select });
for (const s of STATUSES) $('f-status').appendChild(el('option', { value: s, text: s }));
for (const id of ['f-project', 'f-platform', 'f-status'])
  $(id).addEventListener('change', () => {
    void refresh();
  });
$<HTMLInputElement>('key').value = state.key;
$('save').addEventListener('click', () => {
  state.key = $<HTMLInputElement>('key').value.trim();
  localStorage.setItem('buildstate.key', state.key);
  void refresh();
});
window.addEventListener('hashchange', () => {
  const id = buildFromHash();
  if (id) select(id);
});
void refresh();
setInterval(() => {
  void refresh();
}, 2000);
