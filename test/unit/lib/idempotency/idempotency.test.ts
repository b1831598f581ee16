import { canonicalJson, fingerprint, IDEMPOTENCY_KEY_PATTERN } from '../../../../lib/idempotency/idempotency';

describe('idempotency fingerprints', () => {
  it('ignore key order and whitespace of the body', () => {
    expect(fingerprint('post', '/builds', { a: 1, b: { d: [1, 2], c: null } })).toBe(
      fingerprint('POST', '/builds', JSON.parse('{ "b": {"c": null, "d": [1,2]}, "a": 1 }')),
    );
  });

  it('differ for another body, path or method', () => {
    const base = fingerprint('POST', '/builds/a/states', { state_code: 5 });
    expect(fingerprint('POST', '/builds/a/states', { state_code: 10 })).not.toBe(base);
    expect(fingerprint('POST', '/builds/b/states', { state_code: 5 })).not.toBe(base);
    expect(fingerprint('PUT', '/builds/a/states', { state_code: 5 })).not.toBe(base);
  });

  it('canonicalises nested values', () => {
    expect(canonicalJson({ z: [{ b: 1, a: 2 }], a: 'x' })).toBe('{"a":"x","z":[{"a":2,"b":1}]}');
  });

  it('accepts visible ASCII keys up to 255 characters only', () => {
    expect(IDEMPOTENCY_KEY_PATTERN.test('ci-run-42/state-5')).toBe(true);
    expect(IDEMPOTENCY_KEY_PATTERN.test('')).toBe(false);
    expect(IDEMPOTENCY_KEY_PATTERN.test('has space')).toBe(false);
    expect(IDEMPOTENCY_KEY_PATTERN.test('x'.repeat(256))).toBe(false);
  });
});
