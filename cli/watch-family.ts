/**
 * `bldst watch PARENT`: a fork's family on one screen — the parent's own line, one progress bar
 * per child, and the roll-up counted from the children shown (so the lines and the totals agree).
 * Pure functions of the builds, so the rendering is tested without a terminal.
 */
import type { BuildView } from '../lib/builds/build.view';
import { EXIT } from './errors';
import { displayWidth, paint, paintStatus, progressBar, type Style, sanitize, wrap } from './output';
import { type Platform, targetLabel } from './target';

/** A child that needs nobody's re-run to change: completed, cancelled, or blocked until unblocked. */
const TERMINAL = ['completed', 'cancelled', 'blocked'];
const ORDER = ['completed', 'in_progress', 'pending', 'failed', 'blocked', 'cancelled'];

export interface FamilyLine {
  /** What the line is about (a build id, or `children` for the roll-up): a pipe gets a line only when it changes. */
  key: string;
  text: string;
}

function memberLine(
  style: Style,
  b: BuildView,
  idWidth: number,
  indent: string,
  label: { text: string; width: number },
): string {
  const id = sanitize(b.id);
  const parts = [
    `${indent}${paint(style, 'bold', id)}${' '.repeat(Math.max(0, idWidth - displayWidth(id)))}`,
    label.width ? `${label.text}${' '.repeat(Math.max(0, label.width - displayWidth(label.text)))}` : '',
    progressBar(b.progress_percent),
    `state ${b.current_state}${b.state_name ? ` ${sanitize(b.state_name)}` : ''}`,
    paintStatus(style, b.status),
    b.attempt ? `attempt ${b.attempt} of ${b.max_attempts}` : '',
    b.last_worker_id && b.status === 'in_progress' ? `on ${sanitize(b.last_worker_id)}` : '',
    b.last_error && ['failed', 'blocked'].includes(b.status)
      ? `— ${sanitize(b.last_error.split('\n')[0]!)}`
      : '',
  ];
  // Wrapped at word boundaries, continuation lines indented under the id.
  return wrap(parts.filter(Boolean).join('  '), style.width, `${indent}    `);
}

/** "6 children: 5 completed, 1 failed; lowest 60%, highest 100%" */
export function rollupLine(style: Style, children: BuildView[]): string {
  const counts = ORDER.map((s) => [s, children.filter((c) => c.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => paintStatus(style, s, `${n} ${s.replace('_', ' ')}`));
  const progress = children.map((c) => c.progress_percent);
  return `${children.length} child${children.length === 1 ? '' : 'ren'}: ${counts.join(', ')}; lowest ${Math.min(...progress)}%, highest ${Math.max(...progress)}%`;
}

/** The lines of a family; each child shows its target (the region or cloud its fork gave it). */
export function familyLines(
  style: Style,
  parent: BuildView,
  children: BuildView[],
  platforms: Map<string, Platform> = new Map(),
): FamilyLine[] {
  const width = Math.max(...children.map((c) => displayWidth(sanitize(c.id))));
  const labels = children.map((c) => sanitize(targetLabel(c, platforms) ?? ''));
  const labelWidth = Math.max(0, ...labels.map(displayWidth));
  const noLabel = { text: '', width: 0 };
  return [
    { key: parent.id, text: memberLine(style, parent, 0, '', noLabel) },
    ...children.map((c, n) => ({
      key: c.id,
      text: memberLine(style, c, width, '  ', { text: labels[n] || '-', width: labelWidth }),
    })),
    { key: 'children', text: rollupLine(style, children) },
  ];
}

/** The screen on a terminal: every line. */
export const renderFamily = (
  style: Style,
  parent: BuildView,
  children: BuildView[],
  platforms?: Map<string, Platform>,
) =>
  `${familyLines(style, parent, children, platforms)
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
