/**
 * SIGINT and SIGTERM while `bldst run` or `pipeline run` works. The first signal is forwarded to
 * the running step's process group and the step gets a grace period to stop; a second signal (or
 * the grace running out) kills the group with SIGKILL. Either way the attempt is then reported as
 * `failed` with `error_code: "interrupted"` (not counted toward max_attempts), the lease is
 * released and bldst exits 130 (SIGINT) or 143 (SIGTERM). A third signal stops waiting for the
 * report: bldst prints the command that sends it and exits at once.
 */
import { CliError } from './errors';

export type StopSignal = 'SIGINT' | 'SIGTERM';
type Listener = (signal: StopSignal, count: number) => void;

/** Seconds a step gets to stop after the first signal: $BLDST_INTERRUPT_GRACE_S, default 10. */
export function graceSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.BLDST_INTERRUPT_GRACE_S);
  return env.BLDST_INTERRUPT_GRACE_S && Number.isFinite(value) && value >= 0 ? value : 10;
}

export const exitCodeOf = (signal: StopSignal) => (signal === 'SIGTERM' ? 143 : 130);

class Interrupts {
  /** The first signal received, if any: once set, no new step or child starts. */
  signal: StopSignal | undefined;
  count = 0;
  private holders = 0;
  private readonly listeners = new Set<Listener>();
  private readonly onSignal = (signal: StopSignal) => this.receive(signal);

  /** Catches the signals until the returned function is called (nested holders are counted). */
  hold(): () => void {
    if (this.holders++ === 0) {
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holders === 0) {
        process.off('SIGINT', this.onSignal);
        process.off('SIGTERM', this.onSignal);
      }
    };
  }

  /** Called on every signal while held; returns the function that stops listening. */
  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  receive(signal: StopSignal) {
    this.count++;
    this.signal ??= signal;
    for (const listener of [...this.listeners]) listener(signal, this.count);
    if (this.count >= 3) {
      process.stderr.write(`bldst: ${signal} a third time: exiting without waiting\n`);
      process.exit(exitCodeOf(this.signal));
    }
  }

  /** Throws the interruption when a signal was received (before a new step or child starts). */
  check(what: string) {
    if (this.signal) throw interrupted(this.signal, `${what} not started`);
  }
}

export const interrupts = new Interrupts();

export const interrupted = (signal: StopSignal, message: string) =>
  new CliError(`${message} (${signal})`, exitCodeOf(signal), 'interrupted');

/**
 * A transfer run as its own command (`artifact upload`, `artifact download`): the first SIGINT or
 * SIGTERM says, once, on stderr what was kept and how to go on (`describe()`, e.g. "7 of 16 parts
 * are stored; run the same command again to continue"), then bldst exits 130 or 143 at once (the
 * 'exit' hooks run: a download's lock is released). Said with -q too, as `run` says its
 * interruption whatever -q: a user who asked for quiet still learns that nothing is lost.
 * `clear` erases a progress line drawn in place first. Returns the function that stops listening.
 */
export function sayWhatIsKeptOnInterrupt(describe: () => string, clear?: () => void): () => void {
  const release = interrupts.hold();
  const stop = interrupts.listen((signal) => {
    clear?.();
    process.stderr.write(`bldst: interrupted: ${describe()}\n`);
    process.exit(exitCodeOf(signal));
  });
  return () => {
    stop();
    release();
  };
}
