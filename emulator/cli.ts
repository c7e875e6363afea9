import { RewindError } from './errors';
import { RUN_USAGE, runCommand } from './cli/runCommand';
import { EXIT_USAGE } from './cli/driveMachine';
import { DUMP_USAGE, dumpCommand } from './cli/dumpCommand';
import { RECORD_USAGE, recordCommand } from './cli/recordCommand';
import { REPLAY_USAGE, replayCommand } from './cli/replayCommand';
import { LOCKS_USAGE, locksCommand } from './cli/locksCommand';
import { EXPORT_USAGE, exportCommand } from './cli/exportCommand';
import { DISASM_USAGE, disasmCommand } from './cli/disasmCommand';
import { LAST_WRITE_USAGE, lastWriteCommand, SEEK_USAGE, seekCommand } from './cli/seekCommand';

const USAGE = `usage:
  ${RUN_USAGE}
  ${RECORD_USAGE}
  ${REPLAY_USAGE}
  ${DUMP_USAGE}
  ${LOCKS_USAGE}
  ${EXPORT_USAGE}
  ${DISASM_USAGE}
  ${SEEK_USAGE}
  ${LAST_WRITE_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return runCommand(rest);
    case 'dump': return dumpCommand(rest);
    case 'record': return recordCommand(rest);
    case 'replay': return replayCommand(rest);
    case 'locks': return locksCommand(rest);
    case 'export': return exportCommand(rest);
    case 'disasm': return disasmCommand(rest);
    case 'seek': return seekCommand(rest);
    case 'last-write': return lastWriteCommand(rest);
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
