// Free of zod and the rest of the schema module: the CLI uses it too and starts on every pipeline step.

/** The id a create without one gets: its name (and version) as a slug, e.g. "Production AWS" → production-aws. */
export function slugFor(fields: { name: string; version?: unknown }): string {
  const source = fields.version === undefined ? fields.name : `${fields.name}-${String(fields.version)}`;
  return source
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 128);
}
