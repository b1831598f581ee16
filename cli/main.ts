/**
 * bldst — the BuildState command line. `--version` is answered before any command module loads,
 * so pipelines that call it on every step pay only for Node's start.
 */
declare const __BLDST_VERSION__: string;
const VERSION = typeof __BLDST_VERSION__ === 'string' ? __BLDST_VERSION__ : '0.0.0-dev';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`bldst ${VERSION}\n`);
    return 0;
  }
  const { dispatch } = await import('./dispatch');
  return dispatch(argv);
}

/**
 * Exit as soon as output is flushed: fetch keeps idle keep-alive sockets open for a while, which
 * would otherwise hold every invocation ~250 ms past its work.
 */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// `bldst build list | head -1`: a reader that stopped reading is not an error of bldst.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(exit, async (error: unknown) => {
  const e = error as { message?: string; exitCode?: number };
  // Messages carry what the server or a file said (ids, descriptions): shown, never obeyed.
  const { sanitize } = await import('./output');
  process.stderr.write(`bldst: ${sanitize(e.message ?? String(error), { keepNewlines: true })}\n`);
  exit(typeof e.exitCode === 'number' ? e.exitCode : 6);
});
