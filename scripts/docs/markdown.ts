/**
 * The shell blocks of a Markdown file, as `npm run test:docs` runs them (docs/TESTING.md):
 * fenced blocks tagged `bash` or `sh`, their "not run" marker, and the expected results written
 * as comment lines after a command.
 */
import { isBalanced, type Pattern, parsePattern, splitNote } from './expect';

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  lines: string[];
  /** The reason given by the marker, or null when the block runs. */
  skip: string | null;
  /** GitHub's anchor of the `#`/`##` heading the block is under ('' before the first). */
  section: string;
}

/** The marker: the block's first line is this comment, with the reason after the colon. */
export const SKIP_MARKER = /^#\s*not run by the docs test:\s*(.+?)\s*$/;
const SHELL_LANGUAGES = new Set(['bash', 'sh']);

export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{1,2}\s+(.+?)\s*$/.exec(lines[i]!);
    if (heading) section = anchor(heading[1]!);
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim().startsWith(fence[0]!.repeat(fence.length)) && line.trim().replace(/[`~]/g, '') === '')
        break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    if (SHELL_LANGUAGES.has(lang.toLowerCase())) {
      const first = body.find((l) => l.trim() !== '') ?? '';
      blocks.push({ line: i + 1, lines: body, skip: SKIP_MARKER.exec(first.trim())?.[1] ?? null, section });
    }
    i = j;
  }
  return blocks;
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to dashes. */
export const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

export interface Expectation {
  /** 0-based index of the comment's first line in the block. */
  line: number;
  text: string;
  status: number | null;
  pattern: Pattern | null;
}

export interface Segment {
  lines: string[];
  /** What the segment's last command should answer, or null. */
  expect: Expectation | null;
}

/**
 * Splits a block where expectations are: a comment line right after a command line (no blank
 * line between) whose text starts with an HTTP status (`# 201 …`) or with `{` or `[`. Following
 * comment lines continue it until its brackets close.
 */
export function segments(lines: string[]): Segment[] {
  const out: Segment[] = [];
  let current: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const previous = i > 0 ? lines[i - 1]!.trim() : '';
    const comment = /^\s*#\s?(.*)$/.exec(line);
    const afterCommand = previous !== '' && !previous.startsWith('#') && current.length > 0;
    const head = comment ? /^(\d{3})(?:\s+(.*))?$|^([{[].*)$/.exec(comment[1]!.trim()) : null;
    if (!comment || !afterCommand || !head) {
      current.push(line);
      continue;
    }
    const status = head[1] ? Number(head[1]) : null;
    let text = (head[1] ? (head[2] ?? '') : head[3]!).trim();
    const start = i;
    while (text && !isBalanced(text) && i + 1 < lines.length && /^\s*#/.test(lines[i + 1]!)) {
      i++;
      text += ` ${lines[i]!.replace(/^\s*#/, '').trim()}`;
    }
    let pattern: Pattern | null = null;
    if (text) {
      try {
        pattern = parsePattern(splitNote(text).json);
      } catch (error) {
        throw new Error(
          `line ${start + 1} of the block: the expected result is not JSON: ${(error as Error).message}`,
        );
      }
    }
    out.push({ lines: current, expect: { line: start, text, status, pattern } });
    current = [];
  }
  if (current.some((l) => l.trim() !== '')) out.push({ lines: current, expect: null });
  return out;
}

/** `npm run <script>` names a block uses (checked against package.json even in blocks that do not run). */
export function npmScripts(lines: string[]): string[] {
  const names: string[] = [];
  for (const line of lines) {
    const code = line.trim().startsWith('#') ? '' : line.replace(/\s#.*$/, '');
    for (const m of code.matchAll(/\bnpm run ([^\s;&|)'"]+)/g)) names.push(m[1]!);
  }
  return names;
}
