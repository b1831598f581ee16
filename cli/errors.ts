/** Exit codes (documented in docs/CLI.md). */
export const EXIT = { ok: 0, usage: 2, conflict: 3, notFound: 4, auth: 5, server: 6 } as const;

/** An error the CLI reports as one line (never a stack trace) with a documented exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CliError(message, EXIT.usage, 'usage');

/** The exit code for an HTTP status the server answered with. */
export function exitCodeFor(status: number): number {
  if (status === 409 || status === 412) return EXIT.conflict;
  if (status === 404) return EXIT.notFound;
  if (status === 401 || status === 403) return EXIT.auth;
  if (status >= 500) return EXIT.server;
  return EXIT.usage;
}
