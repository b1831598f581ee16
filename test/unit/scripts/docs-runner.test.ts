/** What `npm run test:docs` reads from Markdown and how it compares output (docs/TESTING.md). */
import {
  lastHttpStatus,
  lastJsonValue,
  mismatches,
  parsePattern,
  splitNote,
} from '../../../scripts/docs/expect';
import { anchor, npmScripts, segments, shellBlocks } from '../../../scripts/docs/markdown';

const match = (actual: unknown, expected: string) => mismatches(actual, parsePattern(expected));

describe('expected results', () => {
  it('compares the fields shown and lets others through', () => {
    expect(
      match({ status: 'ok', service: 'buildstate', extra: 1 }, '{"status":"ok","service":"buildstate"}'),
    ).toEqual([]);
    expect(match({ status: 'down' }, '{"status":"ok"}')).toEqual(['$.status: expected "ok", got "down"']);
    expect(match({}, '{"status":"ok"}')).toEqual(['$.status: missing']);
  });

  it('reads … as any value, as "more members", and as any text inside a string', () => {
    const pattern = '{"id":"ak_…","time":"…","n":…,…}';
    expect(match({ id: 'ak_123', time: 't', n: [1], other: true }, pattern)).toEqual([]);
    expect(match({ id: 'bst_1', time: 't', n: 1 }, pattern)).toEqual(['$.id: expected "ak_…", got "bst_1"']);
    expect(
      match({ m: "State 40 is before the build's current state 50; x" }, '{"m":"State 40 is before…; …"}'),
    ).toEqual([]);
    expect(match({ m: 'a.b' }, '{"m":"a...b"}')).toEqual([]);
    expect(match({ m: 'axxb' }, '{"m":"a.b"}')).toHaveLength(1);
  });

  it('compares arrays element by element, with … allowing more', () => {
    expect(match([1, 2], '[1,2]')).toEqual([]);
    expect(match([1, 2, 3], '[1,2]')).toEqual(['$: expected 2 element(s), got 3']);
    expect(match([1, 2, 3], '[1,…]')).toEqual([]);
    expect(match([], '[…]')).toEqual([]);
    expect(match([{ a: 2 }], '[{"a":1}]')).toEqual(['$[0].a: expected 1, got 2']);
    expect(() => parsePattern('[…,1]')).toThrow(/after '…'/);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parsePattern('{"a":}')).toThrow(/character 6/);
    expect(() => parsePattern('{"a":1} trailing')).toThrow(/unexpected text/);
    expect(splitNote('{"a":1}   (recorded once)')).toEqual({ json: '{"a":1}', note: '(recorded once)' });
  });

  it('finds the last JSON value in output that holds several back to back and other lines', () => {
    expect(lastJsonValue('{"a":1}{"b":"}"}\ninput.qcow2: OK\n')).toEqual({ found: true, value: { b: '}' } });
    expect(lastJsonValue('[1,2]\n')).toEqual({ found: true, value: [1, 2] });
    expect(lastJsonValue('no json {here\n')).toEqual({ found: false });
  });

  it('takes the status of the last response of a curl header dump', () => {
    expect(lastHttpStatus('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\netag: "1"\r\n')).toBe(201);
    expect(lastHttpStatus('')).toBeNull();
  });
});

describe('Markdown', () => {
  const doc = [
    '# T',
    '## The bldst CLI',
    '```bash',
    'curl -s $BS/health',
    '# {"status":"ok",',
    '#  "service":"buildstate"}',
    '',
    '# Create one:',
    'curl -s -X POST $BS/builds \\',
    "  -d '{}'",
    '# 201 {"id":"…"}',
    'echo done',
    '```',
    '',
    '- a list item',
    '  ```sh',
    '  # not run by the docs test: deploys to AWS',
    '  npx cdk deploy',
    '  ```',
    '```json',
    '{"not": "shell"}',
    '```',
  ].join('\n');

  it('finds bash and sh blocks with their line, section and marker, and nothing else', () => {
    const blocks = shellBlocks(doc);
    expect(blocks.map((b) => [b.line, b.section, b.skip])).toEqual([
      [3, 'the-bldst-cli', null],
      [16, 'the-bldst-cli', 'deploys to AWS'],
    ]);
    expect(blocks[1]!.lines).toEqual(['# not run by the docs test: deploys to AWS', 'npx cdk deploy']);
  });

  it('splits a block after each expectation, joining continuation lines; prose comments stay commands', () => {
    const segs = segments(shellBlocks(doc)[0]!.lines);
    expect(segs.map((s) => [s.lines.length, s.expect?.status ?? null, s.expect?.text ?? null])).toEqual([
      [1, null, '{"status":"ok", "service":"buildstate"}'],
      [4, 201, '{"id":"…"}'],
      [1, null, null],
    ]);
  });

  it('does not take a comment after a blank line, or one that is prose, for an expectation', () => {
    const segs = segments(['curl x', '', '# {"a":1}', 'curl y', '# see below']);
    expect(segs).toHaveLength(1);
    expect(segs[0]!.expect).toBeNull();
  });

  it('lists the npm scripts a block names, ignoring comments', () => {
    expect(
      npmScripts(['npm run bench:cli, npm run bench:bundles   # npm run nothing', '# npm run x']),
    ).toEqual(['bench:cli,', 'bench:bundles']);
  });

  it("makes GitHub's heading anchors", () => {
    expect(anchor("Compatibility with the seeds' API")).toBe('compatibility-with-the-seeds-api');
    expect(anchor('Leases, stuck builds, events and dashboards')).toBe(
      'leases-stuck-builds-events-and-dashboards',
    );
  });
});
