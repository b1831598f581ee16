/**
 * The dashboard's costs (#29): cards for what priced attempts cost and what resuming saved over 30
 * days (GET /dashboard/costs, one card per currency: sums are never mixed), and each state's cost
 * beside its lane in the timeline (the build's `cost.by_state`). Values are inserted as text.
 */

export interface BuildCost {
  currency: string;
  total: string;
  by_state: Record<string, string>;
  failed: string;
  avoided: string;
}
interface CostSums {
  currency: string;
  total: string;
  failed: string;
  avoided: string;
}
interface Costs {
  since: string;
  until: string;
  totals: CostSums[];
}

type Get = <T>(path: string) => Promise<T>;

function el(tag: string, attrs: Record<string, string>, children: Node[] = []): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.appendChild(c);
  return node;
}

/** "USD 12.35": two decimals for the eye; the exact amount (six decimals) is in the title. */
const short = (currency: string, amount: string) => `${currency} ${Number(amount).toFixed(2)}`;

function card(id: string, value: string, label: string, title: string, amount: string): HTMLElement {
  return el('div', { class: 'card', id, title, 'data-amount': amount }, [
    el('b', { text: value }),
    el('span', { text: label }),
  ]);
}

/** Fills #cost-cards from /dashboard/costs (30 days by default). */
export async function renderCostCards(get: Get): Promise<void> {
  const box = document.getElementById('cost-cards');
  if (!box) return;
  const costs = await get<Costs>('/dashboard/costs');
  while (box.firstChild) box.removeChild(box.firstChild);
  if (!costs.totals.length) {
    box.appendChild(
      card(
        'cost-none',
        '–',
        'no priced attempts, 30 days',
        'set a platform hourly_cost to price builds',
        '0',
      ),
    );
    return;
  }
  for (const t of costs.totals) {
    const window = `${costs.since} to ${costs.until} UTC`;
    box.appendChild(
      card(
        `cost-${t.currency}`,
        short(t.currency, t.total),
        'spent, 30 days',
        `${t.currency} ${t.total} from ${window}; failed, lost or interrupted attempts: ${t.failed}`,
        t.total,
      ),
    );
    box.appendChild(
      card(
        `saved-${t.currency}`,
        short(t.currency, t.avoided),
        'saved by resuming, 30 days',
        `${t.currency} ${t.avoided} of work not re-run (retries that resumed, forks) from ${window}`,
        t.avoided,
      ),
    );
  }
}

/** Adds each state's cost to its timeline row (rows are `#timeline .row[data-state]`), and the build's total. */
export function annotateTimeline(cost: BuildCost | undefined): void {
  const total = document.getElementById('tl-cost');
  if (total)
    total.textContent = cost
      ? `cost ${cost.currency} ${cost.total} (failed ${cost.failed}, saved by resuming ${cost.avoided})`
      : '';
  if (!cost) return;
  for (const row of Array.from(document.querySelectorAll('#timeline .row[data-state]'))) {
    const amount = cost.by_state[row.getAttribute('data-state') ?? ''];
    if (amount === undefined) continue;
    row.appendChild(
      el('span', {
        class: 'state-cost',
        'data-cost': amount,
        text: short(cost.currency, amount),
        title: `${cost.currency} ${amount}`,
      }),
    );
  }
}
