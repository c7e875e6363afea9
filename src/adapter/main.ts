import * as net from 'net';
import { RewindSession } from './rewindSession';

/**
 * The debug adapter as its own process: DAP on stdin/stdout, or with `--server=PORT` a server on
 * 127.0.0.1 that runs one session per connection (for other editors, and for debugging the
 * adapter itself).
 */
function main(argv: string[]): void {
  const server = argv.find((a) => a.startsWith('--server='));
  if (server) {
    const port = Number(server.slice('--server='.length));
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`rewind-adapter: --server takes a port number, not '${server.slice(9)}'\n`);
      process.exit(2);
    }
    const srv = net.createServer((socket) => {
      const session = new RewindSession();
      session.setRunAsServer(true);
      session.start(socket, socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => session.clientGone());
    });
    srv.on('error', (e) => {
      process.stderr.write(`rewind-adapter: cannot listen on 127.0.0.1:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}\n`);
      process.exit(2);
    });
    srv.listen(port, '127.0.0.1', () => {
      process.stderr.write(`rewind-adapter: listening on 127.0.0.1:${(srv.address() as net.AddressInfo).port}\n`);
    });
    return;
  }
  const session = new RewindSession();
  process.on('SIGTERM', () => session.shutdown());
  // An editor that crashes closes our stdin: end with it rather than live on as an orphan.
  process.stdin.on('end', () => session.clientGone());
  session.start(process.stdin, process.stdout);
}

main(process.argv.slice(2));
