/** Fails fast, naming the service, when a broker the test needs is not listening. */
import { connect } from 'node:net';

export function assertReachable(port: number, what: string, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: 2000 });
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`${what} is not reachable on ${host}:${port} (${why}); run: bash scripts/services.sh`));
    };
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => fail('timeout'));
    socket.once('error', (err) => fail(err.message));
  });
}
