/** The references a benchmark's builds name, created through the API as a user would. */
export async function seedReferences(url: string, key: string, imageType: string): Promise<void> {
  for (const [path, body] of [
    ['/platforms', { id: 'bench', name: 'Bench', cloud_provider: 'other' }],
    ['/image-types', { id: imageType, name: imageType }],
  ] as const) {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
  }
}
