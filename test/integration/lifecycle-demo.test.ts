// `npm run demo` ends with its terminal: closing the terminal (SIGHUP) stops the demo and the private
// redis-server it started, rather than leaving them holding their ports (the next `npm run demo`
// would then find 8005 taken). A port another process holds stops it with a message naming the setting.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BANNER, demoPorts, startDemo, type Demo } from '../helpers/demo-process.js';
import { deleteKeys, freePort, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

/** The private redis-server's port (src/demo/private-redis.ts). */
const DEMO_REDIS_PORT = 6390;

/** Whether something accepts connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

describe('npm run demo: how it ends', () => {
  const prefix = uniquePrefix('demo-life');
  let demo: Demo | undefined;
  afterEach(async () => {
    if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGKILL');
      await demo.exited;
    }
    demo = undefined;
  });
  afterAll(async () => {
    const redis = new Redis(TEST_REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('stops cleanly, exit code 0, when its terminal hangs up (SIGHUP)', async () => {
    const ports = await demoPorts();
    demo = startDemo({ ...ports, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix });
    await waitFor(() => demo!.stdout().includes(BANNER), { timeoutMs: 20_000, what: 'the banner' });
    demo.child.kill('SIGHUP');
    await waitFor(() => demo!.child.exitCode !== null, { timeoutMs: 15_000, what: 'the demo to exit' });
    expect(await demo.exited).toBe(0);
    expect(demo.stdout()).toContain('"msg":"app.stopped"');
    for (const port of Object.values(ports)) expect(await listening(Number(port))).toBe(false);
  }, 40_000);

  it('says which setting to change, exit code 1, when another process holds HTTP_PORT', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as net.AddressInfo).port;
    try {
      demo = startDemo({
        ...(await demoPorts()),
        HTTP_PORT: String(busy),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
      });
      expect(await demo.exited).toBe(1);
      expect(demo.stderr()).toContain(
        `ses-relay: start-up failed: HTTP_PORT ${busy}: another process already listens on 127.0.0.1:${busy} (EADDRINUSE); ` +
          'stop it, or set HTTP_PORT to a free port',
      );
      expect(demo.stdout()).not.toContain(BANNER);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 40_000);

  it.skipIf(!hasRedisServer)(
    'takes its private redis-server down with it when the terminal hangs up, leaving only .demo/',
    async () => {
      if (await listening(DEMO_REDIS_PORT)) {
        console.warn(`SKIPPED: port ${DEMO_REDIS_PORT} is in use, the demo could not start its own Redis`);
        return;
      }
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-demo-cwd-'));
      try {
        demo = startDemo(
          {
            ...(await demoPorts()),
            REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
            REDIS_PREFIX: prefix,
          },
          cwd,
        );
        await waitFor(() => demo!.stdout().includes(BANNER), { timeoutMs: 20_000, what: 'the banner' });
        expect(demo.stdout()).toContain(
          `started a private redis-server at redis://127.0.0.1:${DEMO_REDIS_PORT}`,
        );
        demo.child.kill('SIGHUP');
        await waitFor(() => demo!.child.exitCode !== null, { timeoutMs: 15_000, what: 'the demo to exit' });
        expect(await demo.exited).toBe(0);
        await waitFor(async () => !(await listening(DEMO_REDIS_PORT)), {
          what: 'the private redis-server to stop',
        });
        expect(fs.readdirSync(cwd)).toEqual(['.demo']);
      } finally {
        // Had the demo left its redis-server running (the failure this test looks for), stop it.
        if (await listening(DEMO_REDIS_PORT)) {
          const left = new Redis(DEMO_REDIS_PORT, '127.0.0.1', { maxRetriesPerRequest: 0 });
          await left.shutdown('NOSAVE').catch(() => undefined);
          left.disconnect();
        }
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    },
    40_000,
  );
});
