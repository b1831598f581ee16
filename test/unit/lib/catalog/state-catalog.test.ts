import { DEFAULT_MILESTONES, defaultCatalog } from '../../../../lib/catalog/state-catalog';

describe('default state catalog', () => {
  it('holds the 21 milestones 0, 5, …, 100 of the original state table', () => {
    expect(DEFAULT_MILESTONES.map((m) => m.code)).toEqual(Array.from({ length: 21 }, (_, i) => i * 5));
    expect(defaultCatalog.nameOf(25)).toBe('Security baseline applied');
    expect(defaultCatalog.nameOf(100)).toBe('Complete and delivered');
  });

  it('leaves inserted codes unnamed and orders them between milestones', () => {
    expect(defaultCatalog.nameOf(42)).toBeNull();
    expect(defaultCatalog.nextAfter(40)).toBe(45);
    expect(defaultCatalog.nextAfter(42)).toBe(45);
    expect(defaultCatalog.nextAfter(100)).toBeNull();
  });

  it('falls back to the service default attempt limit', () => {
    expect(defaultCatalog.maxAttemptsFor(5, 7)).toBe(7);
  });
});
