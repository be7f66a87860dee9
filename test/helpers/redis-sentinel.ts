// A local Redis Sentinel started from the redis-server binary, monitoring one private primary under
// the master name `relay`, for the Sentinel tests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis.js';
import { waitFor } from './wait.js';

export interface LocalSentinel {
  port: number;
  stop(): Promise<void>;
}

/**
 * `conf`: further sentinel.conf lines, e.g. `requirepass …` for the Sentinel itself or
 * `sentinel auth-pass relay …` for its link to the primary; `password` is what the probe that waits
 * for the Sentinel to see the primary authenticates with.
 */
export async function startSentinel(
  primaryPort: number,
  { conf = [] as string[], password }: { conf?: string[]; password?: string } = {},
): Promise<LocalSentinel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-sentinel-'));
  const port = await freePort();
  const file = path.join(dir, 'sentinel.conf');
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `sentinel monitor relay 127.0.0.1 ${primaryPort} 1`,
    ...conf,
  ];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const child = spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 100,
    ...(password ? { password } : {}),
  });
  probe.on('error', () => undefined);
  try {
    await waitFor(
      async () => {
        const master = (await probe.call('SENTINEL', 'master', 'relay').catch(() => null)) as string[] | null;
        // Seen, and reachable with the credentials it was given: flags "master", not "s_down".
        const flags = master?.[master.indexOf('flags') + 1];
        return flags === 'master';
      },
      { what: 'the sentinel to see the primary' },
    );
  } finally {
    probe.disconnect();
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
