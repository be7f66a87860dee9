// The demo's Redis: the one at REDIS_URL when it answers, otherwise a private redis-server (AOF on,
// data in .demo/) started for the demo's lifetime when the binary is installed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';

const DEMO_REDIS_PORT = 6390;
const DEMO_DIR = path.resolve('.demo');

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1500,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function ensureRedis(url: string): Promise<string> {
  if (await redisAnswers(url)) return url;
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (found.error) {
    console.error(
      `No Redis answers at ${url} and redis-server is not installed.\n` +
        'Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
        'or point REDIS_URL at a running Redis 7, then run npm run demo again.',
    );
    process.exit(1);
  }
  fs.mkdirSync(DEMO_DIR, { recursive: true });
  const privateUrl = `redis://127.0.0.1:${DEMO_REDIS_PORT}`;
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(DEMO_REDIS_PORT),
      '--bind',
      '127.0.0.1',
      '--dir',
      DEMO_DIR,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  process.on('exit', () => child.kill('SIGTERM'));
  for (let i = 0; i < 50 && !(await redisAnswers(privateUrl)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await redisAnswers(privateUrl))) {
    console.error(`Started redis-server on port ${DEMO_REDIS_PORT}, but it does not answer.`);
    process.exit(1);
  }
  console.log(`No Redis at ${url}: started a private redis-server at ${privateUrl} (data in ${DEMO_DIR}).`);
  return privateUrl;
}
