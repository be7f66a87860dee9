// A TCP front to a Redis, as a managed service's endpoint or a proxy stands between the gateway and
// its server: new connections go to `target`, which a test may move (a failover's DNS name), and the
// connections open now can be made silent (a partition: bytes stop either way, the sockets stay open).
import net from 'node:net';
import { freePort } from './redis.js';

export interface RedisFront {
  readonly port: number;
  /** Where new connections go; connections already open stay where they are. */
  target: number;
  /** Every connection open now stops carrying bytes either way, and stays open. */
  silenceCurrent(): void;
  /** Resets the silent connections (their clients reconnect through the front). */
  resetSilent(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  silent: boolean;
}

export async function startRedisFront(target: number): Promise<RedisFront> {
  const pairs = new Set<Pair>();
  const destroy = (pair: Pair) => {
    pair.client.destroy();
    pair.upstream.destroy();
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(front.target, '127.0.0.1');
    const pair = { client, upstream, silent: false };
    pairs.add(pair);
    client.on('data', (data) => void (pair.silent || upstream.write(data)));
    upstream.on('data', (data) => void (pair.silent || client.write(data)));
    const end = () => {
      destroy(pair);
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const front: RedisFront = {
    port: await freePort(),
    target,
    silenceCurrent() {
      for (const pair of pairs) pair.silent = true;
    },
    resetSilent() {
      for (const pair of pairs) if (pair.silent) destroy(pair);
    },
    async close() {
      for (const pair of pairs) destroy(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.listen(front.port, '127.0.0.1', resolve));
  return front;
}
