/**
 * The channels panel: every channel (GET /channels) with the build it points at, who assigned it
 * and when, the images it hands out (GET /channels/{name}) and, on demand, its assignments
 * (GET /channels/{name}/history). A channel whose build is revoked is a state of the channel, shown
 * in the row from the API's `409 revoked` answer (which build, why), not an error of the page.
 */
import { ApiError, clear, el, type Revocable, revokedMark, revokedText } from './dom';

interface ChannelSummary {
  name: string;
  build_id: string;
  assigned_at: string;
  assigned_by: string;
  version: number;
}
interface Image {
  build_id: string;
  cloud: string;
  region: string;
  image_id: string;
  name?: string | null;
}
interface Channel extends ChannelSummary {
  images: Image[];
  reason?: string | null;
}
interface Assignment {
  version: number;
  build_id: string;
  previous_build_id: string | null;
  reason: string | null;
  assigned_at: string;
  assigned_by: string;
}
interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

/** What GET /channels/{name} said: the channel, its build revoked, or another refusal. */
type Detail =
  | { kind: 'ok'; channel: Channel }
  | { kind: 'revoked'; revokedBuild: string; mark: Revocable }
  | { kind: 'error'; message: string };

export interface ChannelsDeps {
  api<T>(path: string): Promise<T>;
  /** Selects a build on the page: its row highlighted, its timeline shown. */
  select(id: string): void;
}

/** Details are read for this many channels per refresh (one GET each); the rest are listed by name. */
const DETAILED = 50;

const utc = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;
const enc = encodeURIComponent;

export function channelsPanel(root: HTMLElement, deps: ChannelsDeps): { refresh(): Promise<void> } {
  // Channels whose history is open: kept across refreshes.
  const open = new Set<string>();

  async function detail(name: string): Promise<Detail> {
    try {
      return { kind: 'ok', channel: await deps.api<Channel>(`/channels/${enc(name)}`) };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'revoked') {
        const d = err.details;
        const str = (v: unknown) => (typeof v === 'string' ? v : null);
        return {
          kind: 'revoked',
          revokedBuild: str(d.revoked_build_id) ?? '',
          mark: {
            revoked_at: str(d.revoked_at) ?? new Date(0).toISOString(),
            revoked_by: str(d.revoked_by),
            revoked_reason: str(d.reason),
          },
        };
      }
      return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
    }
  }

  function buildLink(id: string, attrs: Record<string, string> = {}): HTMLElement {
    const a = el('a', { href: `#build=${enc(id)}`, text: id, ...attrs });
    a.addEventListener('click', (e) => {
      e.preventDefault();
      deps.select(id);
      document
        .querySelector(`tr.build[data-build-id="${CSS.escape(id)}"]`)
        ?.scrollIntoView({ block: 'center' });
    });
    return a;
  }

  function imagesCell(c: ChannelSummary, d: Detail): HTMLElement {
    if (d.kind === 'revoked') {
      const via = d.revokedBuild && d.revokedBuild !== c.build_id ? ` (an ancestor of ${c.build_id})` : '';
      return el('td', {}, [
        el('div', {
          class: 'revoked-note',
          'data-channel-revoked': c.name,
          text: `not served: build ${d.revokedBuild || c.build_id}${via} is ${revokedText(d.mark)}`,
        }),
      ]);
    }
    if (d.kind === 'error') return el('td', { class: 'error', text: `not read: ${d.message}` });
    const images = d.channel.images;
    if (!images.length) return el('td', { class: 'muted', text: 'no images recorded' });
    return el('td', {}, [
      el(
        'ul',
        { class: 'images' },
        images.map((i) =>
          el('li', {
            'data-image': i.image_id,
            title: `${i.name ? `${i.name}, ` : ''}from build ${i.build_id}`,
            text: `${i.cloud} ${i.region} ${i.image_id}${i.build_id !== c.build_id ? ` (${i.build_id})` : ''}`,
          }),
        ),
      ),
    ]);
  }

  function row(c: ChannelSummary, d: Detail | null): HTMLElement[] {
    const state = d?.kind ?? 'unread';
    const reason = d?.kind === 'ok' ? d.channel.reason : null;
    const toggle = el('button', {
      type: 'button',
      'data-channel-history': c.name,
      'aria-expanded': String(open.has(c.name)),
      text: open.has(c.name) ? 'hide history' : 'history',
    });
    toggle.addEventListener('click', () => {
      if (open.has(c.name)) open.delete(c.name);
      else open.add(c.name);
      void refresh();
    });
    const tr = el(
      'tr',
      {
        class: `channel${state === 'revoked' ? ' revoked' : ''}`,
        'data-channel': c.name,
        'data-state': state,
      },
      [
        el('td', {}, [el('b', { text: c.name }), el('span', { class: 'muted', text: ` v${c.version}` })]),
        el('td', {}, [
          buildLink(c.build_id, { 'data-channel-build': c.build_id }),
          d?.kind === 'revoked' ? document.createTextNode(' ') : null,
          d?.kind === 'revoked' ? revokedMark(d.mark, `channel:${c.name}`) : null,
        ]),
        el('td', {}, [
          document.createTextNode(`${utc(c.assigned_at)} by ${c.assigned_by}`),
          reason ? el('div', { class: 'muted', text: reason }) : null,
        ]),
        d ? imagesCell(c, d) : el('td', { class: 'muted', text: `bldst channel get ${c.name}` }),
        el('td', {}, [toggle]),
      ],
    );
    return [tr];
  }

  async function historyRow(name: string): Promise<HTMLElement> {
    const list = el('ol', { class: 'channel-history', 'data-history': name });
    try {
      const h = await deps.api<Page<Assignment>>(`/channels/${enc(name)}/history?limit=100`);
      for (const a of h.items)
        list.appendChild(
          el('li', { 'data-version': String(a.version) }, [
            document.createTextNode(`v${a.version} ${utc(a.assigned_at)} by ${a.assigned_by}: `),
            buildLink(a.build_id),
            document.createTextNode(
              `${a.previous_build_id ? ` (was ${a.previous_build_id})` : ''}${a.reason ? ` – ${a.reason}` : ''}`,
            ),
          ]),
        );
      if (h.next_cursor)
        list.appendChild(
          el('li', { class: 'muted', text: `later assignments: bldst channel history ${name}` }),
        );
    } catch (err) {
      list.appendChild(
        el('li', {
          class: 'error',
          text: `history not read: ${err instanceof Error ? err.message : String(err)}`,
        }),
      );
    }
    return el('tr', { class: 'channel-history-row' }, [
      el('td', { colspan: '5' }, [el('div', { class: 'muted', text: 'assignments, oldest first' }), list]),
    ]);
  }

  async function refresh(): Promise<void> {
    const channels = (await deps.api<Page<ChannelSummary>>('/channels')).items;
    const shown = channels.slice(0, DETAILED);
    const [details, histories] = await Promise.all([
      Promise.all(shown.map((c) => detail(c.name))),
      Promise.all(
        channels
          .filter((c) => open.has(c.name))
          .map(async (c) => [c.name, await historyRow(c.name)] as const),
      ),
    ]);
    const historyOf = new Map(histories);
    clear(root);
    if (!channels.length) {
      root.appendChild(
        el('p', { class: 'muted', text: 'no channels yet: bldst channel set CHANNEL BUILD-ID' }),
      );
      return;
    }
    const body = el('tbody');
    channels.forEach((c, i) => {
      for (const r of row(c, details[i] ?? null)) body.appendChild(r);
      const h = historyOf.get(c.name);
      if (h) body.appendChild(h);
    });
    root.appendChild(
      el('div', { class: 'scroll' }, [
        el('table', {}, [
          el('thead', {}, [
            el(
              'tr',
              {},
              ['Channel', 'Build', 'Assigned', 'Images', ''].map((t) => el('th', { text: t })),
            ),
          ]),
          body,
        ]),
      ]),
    );
  }

  return { refresh };
}
