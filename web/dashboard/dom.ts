/**
 * What the dashboard's modules share: building elements (data only ever as text), the API's
 * error, and the revoked mark every build shown on the page carries when it is revoked.
 */

export type Attrs = Record<string, string>;

export function el(tag: string, attrs: Attrs = {}, children: (Node | null)[] = []): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    // Through the CSSOM: a style attribute would need 'unsafe-inline' in the page's style-src.
    else if (k === 'style') node.style.cssText = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.appendChild(c);
  return node;
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** A refused call: its HTTP status and the API's `{error: {code, message, details}}`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string = '',
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The revocation fields a build carries (GET /builds, /builds/{id}, /children) while it is revoked. */
export interface Revocable {
  revoked_at?: string | null;
  revoked_reason?: string | null;
  revoked_by?: string | null;
}

/** "revoked 2026-12-07 02:40:11 UTC by admin: CVE-2026-1234 in openssl" */
export function revokedText(r: Revocable): string {
  const at = r.revoked_at ? ` ${r.revoked_at.slice(0, 19).replace('T', ' ')} UTC` : '';
  return `revoked${at}${r.revoked_by ? ` by ${r.revoked_by}` : ''}${r.revoked_reason ? `: ${r.revoked_reason}` : ''}`;
}

/**
 * The revoked badge: the word "revoked" (never colour alone), the reason on hover, and the
 * reason again as text for screen readers (a title alone is not reliably read out). Null when
 * the build is not revoked.
 */
export function revokedMark(r: Revocable, owner: string): HTMLElement | null {
  if (!r.revoked_at) return null;
  return el('span', { class: 'revoked-badge', 'data-revoked': owner, title: revokedText(r) }, [
    document.createTextNode('revoked'),
    el('span', { class: 'sr-only', text: r.revoked_reason ? `: ${r.revoked_reason}` : '' }),
  ]);
}
