import {
  type Column,
  cut,
  cutMiddle,
  displayWidth,
  distinctWidth,
  formatTable,
  sanitize,
  wrap,
} from '../../../cli/output';

const plain = { color: false, width: 80 };
// biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is that none are left
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('sanitize', () => {
  // Each hostile string, and what a reader's terminal is shown instead.
  const HOSTILE: [string, string, string][] = [
    ['OSC title + clear screen', '\x1b]0;pwned\x07\x1b[2J', '\\e]0;pwned\\a\\e[2J'],
    [
      'OSC 8 hyperlink',
      '\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\',
      '\\e]8;;http://evil\\e\\click\\e]8;;\\e\\',
    ],
    ['CSI cursor move and erase line', 'ok\x1b[1A\x1b[2Kforged', 'ok\\e[1A\\e[2Kforged'],
    ['SGR colour', '\x1b[31mred\x1b[0m', '\\e[31mred\\e[0m'],
    ['C1 single-byte CSI', '\u009b2J', '\\x9b2J'],
    ['C1 OSC and ST', '\u009d0;t\u009c', '\\x9d0;t\\x9c'],
    ['DEL', 'a\x7fb', 'a\\x7fb'],
    ['carriage return overwriting a line', 'completed\rfailed   ', 'completed\\rfailed   '],
    ['backspace', 'ok\b\bno', 'ok\\b\\bno'],
    ['NUL and bell', 'a\x00b\x07', 'a\\x00b\\a'],
    ['right-to-left override', 'invoice\u202egpj.exe', 'invoice\\u202egpj.exe'],
    ['bidi isolates', '\u2066a\u2067b\u2068c\u2069', '\\u2066a\\u2067b\\u2068c\\u2069'],
    ['directional marks', 'a\u200eb\u200fc\u061c', 'a\\u200eb\\u200fc\\u061c'],
    ['line and paragraph separators', 'a\u2028b\u2029', 'a\\u2028b\\u2029'],
    ['newline and tab', 'a\nb\tc', 'a\\nb\\tc'],
    ['CJK and emoji are text, kept', '構築 🚀 ok', '構築 🚀 ok'],
  ];
  it.each(HOSTILE)('shows %s escaped, never emitted', (_name, input, shown) => {
    const out = sanitize(input);
    expect(out).toBe(shown);
    expect(out).not.toMatch(CONTROL);
    expect(out).not.toContain('\x1b');
  });

  it('keeps newlines and tabs of our own messages when asked, and nothing else', () => {
    expect(sanitize('line 1\n\tline 2\x1b[2J', { keepNewlines: true })).toBe('line 1\n\tline 2\\e[2J');
  });

  it('leaves a table cell with no control character, wherever it came from', () => {
    const rows = [{ id: 'b-1', description: 'x\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil\r\ny' }];
    const out = formatTable(
      rows,
      [
        { header: 'ID', value: (r) => r.id, whole: true },
        { header: 'D', value: (r) => r.description },
      ],
      {
        color: false,
        width: Number.POSITIVE_INFINITY,
      },
    );
    expect(out.replace(/\n/g, '')).not.toMatch(CONTROL);
    expect(out).toContain('\\e]0;pwned\\a\\e[2J\\x9b31m\\u202eevil ⏎ y');
  });
});

describe('display width', () => {
  it.each([
    ['abc', 3],
    ['構築', 4],
    ['ビルド', 6],
    ['빌드', 4],
    ['🚀', 2],
    ['👍🏽', 2],
    ['👨‍👩‍👧', 2],
    ['❤️', 2],
    ['é', 1],
    ['e\u0301', 1],
    ['\x1b[31mred\x1b[0m', 3],
  ])('%s takes %i columns', (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });

  it('cuts by columns and never splits a character', () => {
    expect(cut('構築サーバー', 5)).toBe('構築…');
    expect(displayWidth(cut('構築サーバー', 5))).toBeLessThanOrEqual(5);
    expect(cut('👨‍👩‍👧👨‍👩‍👧', 3)).toBe('👨‍👩‍👧…');
  });

  it('aligns columns of CJK and emoji cells', () => {
    const rows = [
      { a: '構築', b: 'x' },
      { a: 'ab', b: 'y' },
      { a: '🚀🚀', b: 'z' },
    ];
    const out = formatTable(
      rows,
      [
        { header: 'A', value: (r) => r.a },
        { header: 'B', value: (r) => r.b },
      ],
      plain,
    );
    const lines = out.trimEnd().split('\n');
    const at = lines.map((l) => displayWidth(l.slice(0, l.length - 1)));
    expect(new Set(at).size).toBe(1);
  });
});

describe('formatTable at a width', () => {
  interface B {
    id: string;
    platform: string;
    target: string;
    status: string;
    worker: string;
    note: string;
  }
  const rows: B[] = [
    'us-east-1',
    'us-west-2',
    'eu-west-1',
    'eu-central-1',
    'ap-southeast-2',
    'sa-east-1',
  ].map((region, n) => ({
    id: `f18a0e927fd4628789aabdb43-00${n + 1}`,
    platform: 'aws-commercial',
    target: region,
    status: 'in_progress',
    worker: `build-server-${'abcdef'[n]}`,
    note: 'a long description of what this build does, which nobody needs in a narrow terminal',
  }));
  const columns: Column<B>[] = [
    { header: 'ID', value: (b) => b.id, whole: true },
    { header: 'PLATFORM', value: (b) => b.platform, distinct: true },
    { header: 'TARGET', value: (b) => b.target, distinct: true, min: 9 },
    { header: 'STATUS', value: (b) => b.status, min: 11 },
    { header: 'NOTE', value: (b) => b.note, drop: 2 },
    { header: 'WORKER', value: (b) => b.worker, distinct: true, drop: 1 },
  ];

  it.each([80, 100, 160])('at %i columns: ids whole, targets whole, no line too long', (width) => {
    const out = formatTable(rows, columns, { color: false, width });
    for (const line of out.trimEnd().split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(width);
    for (const r of rows) {
      expect(out).toContain(r.id);
      expect(out).toContain(r.target);
    }
  });

  it('at 60 columns still shows ids whole and targets that differ', () => {
    const out = formatTable(rows, columns, { color: false, width: 60 });
    const lines = out.trimEnd().split('\n').slice(1);
    expect(lines.map((l) => l.split(/ +/)[0])).toEqual(rows.map((r) => r.id));
    expect(new Set(lines.map((l) => l.split(/ +/)[2])).size).toBe(rows.length);
  });

  it('lets the low-value column shrink and go before the worker, and the worker before the identity ones', () => {
    const at100 = formatTable(rows, columns, { color: false, width: 100 });
    expect(at100).toContain('build-server-a');
    expect(at100).toContain('aws-commercial');
    expect(at100).not.toContain('which nobody needs');
    const at80 = formatTable(rows, columns, { color: false, width: 80 });
    expect(at80).not.toContain('NOTE');
    expect(at80).toContain('aws-commercial');
  });

  it('cuts worker ids in the middle, never so far that two look alike', () => {
    const workers = rows.map((r) => r.worker);
    const w = distinctWidth(workers);
    const shown = workers.map((x) => cutMiddle(x, w));
    expect(new Set(shown).size).toBe(workers.length);
    expect(shown[0]).toMatch(/…-a$/);
  });
});

describe('wrap', () => {
  it('breaks at word boundaries, never inside a word', () => {
    const text = '6 children: 5 completed, 1 failed; lowest 60%, highest 100%';
    const out = wrap(text, 20, '  ');
    for (const line of out.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(20);
    expect(out.replace(/\n {2}/g, ' ')).toBe(text);
    expect(out).not.toMatch(/comp\n/);
  });
});
