/**
 * Where a transfer's time goes, when BLDST_TIMINGS=1: each phase (read pass, part transfer,
 * completion; GETs, hashing, flush, rename) is the time from one mark to the next, printed on
 * stderr as one line when the process exits, e.g.
 * `bldst timings: read 1.21 s, transfer 5.40 s, complete 0.52 s`. npm run bench:artifacts reads it.
 * Off by default: marking is then a no-op.
 */
const on = process.env.BLDST_TIMINGS === '1';
const marks: { name: string; at: bigint }[] = [];
const extra: string[] = [];
let printed = false;

const print = () => {
  if (printed || marks.length < 2) return;
  printed = true;
  const phases = marks
    .slice(1)
    .map((m, i) => `${m.name} ${(Number(m.at - marks[i]!.at) / 1e9).toFixed(2)} s`)
    .concat(extra);
  process.stderr.write(`bldst timings: ${phases.join(', ')}\n`);
};

/** Starts the clock (the first phase begins here). */
export function timingStart(): void {
  if (!on) return;
  marks.length = 0;
  marks.push({ name: 'start', at: process.hrtime.bigint() });
  process.once('exit', print);
}

/** Ends the phase called `name` now; the next one starts. */
export function timingMark(name: string): void {
  if (on && marks.length) marks.push({ name, at: process.hrtime.bigint() });
}

/** A figure measured inside a phase (e.g. time spent hashing beside the GETs), printed after the phases. */
export function timingNote(name: string, seconds: number): void {
  if (on) extra.push(`${name} ${seconds.toFixed(2)} s`);
}
