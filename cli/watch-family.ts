/**
 * `bldst watch PARENT`: a fork's family on one screen — the parent's own line, one progress bar
 * per child, and the roll-up counted from the children shown (so the lines and the totals agree).
 * Pure functions of the builds, so the rendering is tested without a terminal.
 */
import type { BuildView } from '../lib/builds/build.view';
import { EXIT } from './errors';
import { paint, paintStatus, progressBar, type Style } from './output';

/** A child that needs nobody's re-run to change: completed, cancelled, or blocked until unblocked. */
const TERMINAL = ['completed', 'cancelled', 'blocked'];
const ORDER = ['completed', 'in_progress', 'pending', 'failed', 'blocked', 'cancelled'];

export interface FamilyLine {
  /** What the line is about (a build id, or `children` for the roll-up): a pipe gets a line only when it changes. */
  key: string;
  text: string;
}

function memberLine(style: Style, b: BuildView, idWidth: number, indent: string): string {
  const parts = [
    `${indent}${paint(style, 'bold', b.id)}${' '.repeat(Math.max(0, idWidth - b.id.length))}`,
    progressBar(b.progress_percent),
    `state ${b.current_state}${b.state_name ? ` ${b.state_name}` : ''}`,
    paintStatus(style, b.status),
    b.attempt ? `attempt ${b.attempt} of ${b.max_attempts}` : '',
    b.last_worker_id && b.status === 'in_progress' ? `on ${b.last_worker_id}` : '',
    b.last_error && ['failed', 'blocked'].includes(b.status) ? `— ${b.last_error.split('\n')[0]}` : '',
  ];
  return parts.filter(Boolean).join('  ');
}

/** "6 children: 5 completed, 1 failed; lowest 60%, highest 100%" */
export function rollupLine(style: Style, children: BuildView[]): string {
  const counts = ORDER.map((s) => [s, children.filter((c) => c.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => paintStatus(style, s, `${n} ${s.replace('_', ' ')}`));
  const progress = children.map((c) => c.progress_percent);
  return `${children.length} child${children.length === 1 ? '' : 'ren'}: ${counts.join(', ')}; lowest ${Math.min(...progress)}%, highest ${Math.max(...progress)}%`;
}

export function familyLines(style: Style, parent: BuildView, children: BuildView[]): FamilyLine[] {
  const width = Math.max(...children.map((c) => c.id.length));
  return [
    { key: parent.id, text: memberLine(style, parent, 0, '') },
    ...children.map((c) => ({ key: c.id, text: memberLine(style, c, width, '  ') })),
    { key: 'children', text: rollupLine(style, children) },
  ];
}

/** The screen on a terminal: every line. */
export const renderFamily = (style: Style, parent: BuildView, children: BuildView[]) =>
  `${familyLines(style, parent, children)
    .map((l) => l.text)
    .join('\n')}\n`;

/** In a pipe: the lines that changed since `seen` (which is updated), in screen order. */
export function changedLines(seen: Map<string, string>, lines: FamilyLine[]): string {
  const changed = lines.filter((l) => seen.get(l.key) !== l.text);
  for (const l of changed) seen.set(l.key, l.text);
  return changed.map((l) => `${l.text}\n`).join('');
}

/** Whether watching can stop (every child completed, cancelled or blocked) and with which exit code. */
export function familyOutcome(children: BuildView[]): { done: boolean; code: number } {
  const done = children.every((c) => TERMINAL.includes(c.status));
  return { done, code: children.every((c) => c.status === 'completed') ? EXIT.ok : EXIT.conflict };
}
