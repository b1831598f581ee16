export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who made a request. `id` is recorded as the `actor` of every change it makes. */
export interface Principal {
  id: string;
  type: 'api_key';
  name: string;
  scopes: Scope[];
}
