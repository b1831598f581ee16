import { clip, clipFlag, LIMITS } from '../../../cli/limits';
import { choice, didYouMean, editDistance, nearest } from '../../../cli/suggest';

describe('did you mean', () => {
  it.each([
    ['--stat', ['--state', '--status', '--message'], ['--state', '--status']],
    ['biuld', ['build', 'watch', 'run'], ['build']],
    ['lsit', ['list', 'get', 'add-state'], ['list']],
    ['jsno', ['table', 'json'], ['json']],
    ['in-progress', ['in_progress', 'completed', 'failed'], ['in_progress']],
    ['zzzzzz', ['build', 'watch'], []],
  ])('%s → %j', (word, known, expected) => {
    expect(nearest(word, known)).toEqual(expected);
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('lsit', 'list')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('says nothing when nothing is near, and names one or several', () => {
    expect(didYouMean('zzzz', ['build'])).toBe('');
    expect(didYouMean('--stat', ['--state', '--status'])).toBe("; did you mean '--state' or '--status'?");
  });

  it('refuses a value outside the choices with exit 2, naming them and the nearest', () => {
    expect(choice('completed', ['in_progress', 'completed', 'failed'], '--status')).toBe('completed');
    expect(choice(undefined, ['a'], '--x')).toBeUndefined();
    expect(() => choice('complete', ['in_progress', 'completed', 'failed'], '--status')).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message:
          "--status must be one of in_progress, completed, failed, not 'complete'; did you mean 'completed'?",
      }),
    );
  });
});

describe('clip', () => {
  it('leaves text within the limit alone', () => {
    expect(clip('short', 10)).toEqual({ text: 'short', cut: 0 });
  });

  it('keeps the start and the end with a marker saying how much went, within the limit', () => {
    const text = `${'a'.repeat(10_000)}${'z'.repeat(10_000)}`;
    const { text: out, cut } = clip(text, LIMITS.message);
    expect(out.length).toBeLessThanOrEqual(LIMITS.message);
    expect(out).toMatch(/^a+\n… \[\d+ characters cut by bldst\] …\nz+$/);
    expect(out).toContain(`[${cut} characters cut by bldst]`);
    expect(out.length - out.match(/\n….*…\n/)![0].length + cut).toBe(text.length);
  });

  it("keeps run's `exit code N` header first, then the latest output", () => {
    const lines = ['exit code 7', ...Array.from({ length: 2000 }, (_, n) => `line ${n} of the build log`)];
    const { text } = clip(lines.join('\n'), LIMITS.error, { head: 'exit code 7' });
    expect(text.length).toBeLessThanOrEqual(LIMITS.error);
    expect(text.split('\n')[0]).toBe('exit code 7');
    expect(text.split('\n')[1]).toMatch(/^… \[\d+ characters cut by bldst\] …$/);
    expect(text.endsWith('line 1999 of the build log')).toBe(true);
  });

  it('warns when a flag is cut, and not otherwise', () => {
    const warned: string[] = [];
    expect(clipFlag('fine', 2000, '--message', (l) => warned.push(l))).toBe('fine');
    expect(warned).toEqual([]);
    const out = clipFlag('x'.repeat(20_000), 2000, '--message', (l) => warned.push(l));
    expect(out!.length).toBeLessThanOrEqual(2000);
    expect(warned).toEqual([
      expect.stringMatching(/^--message is 20000 characters, more than the 2000 the server keeps/),
    ]);
  });
});
