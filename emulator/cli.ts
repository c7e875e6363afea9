import { RewindError } from './errors';
import { RUN_USAGE, runCommand, EXIT_USAGE } from './cli/runCommand';

const USAGE = `usage:
  ${RUN_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return runCommand(rest);
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE + '\n');
      return cmd === undefined ? EXIT_USAGE : 0;
    default:
      throw new RewindError('USAGE', `unknown command '${cmd}'; try 'rewind --help'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof RewindError) {
      process.stderr.write(`rewind: ${e.message}\n`);
      process.exitCode = EXIT_USAGE;
    } else {
      // Not a user error: a bug in Rewind. Keep the stack so it can be reported.
      process.stderr.write(`rewind: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  },
);
