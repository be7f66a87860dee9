import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRedisTarget } from '../../src/shared/redis.js';
import { startGateway } from '../helpers/gateway.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('Redis URLs', () => {
  it('reads Sentinel and Cluster URLs', () => {
    expect(parseRedisTarget('redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/relay')).toEqual({
      kind: 'sentinel',
      name: 'relay',
      password: 's3cret',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
    });
    expect(parseRedisTarget('redis-cluster://a:7000,b:7001')).toMatchObject({
      kind: 'cluster',
      tls: false,
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
    });
    expect(parseRedisTarget('rediss://user:pw@host:6380/2')).toEqual({
      kind: 'single',
      url: 'rediss://user:pw@host:6380/2',
    });
  });
});

describe('Redis behind Sentinel', () => {
  let primary: PrivateRedis;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-sentinel-'));
  beforeAll(async () => {
    primary = await startPrivateRedis();
    sentinelPort = await freePort();
    const conf = path.join(dir, 'sentinel.conf');
    fs.writeFileSync(
      conf,
      `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor relay 127.0.0.1 ${primary.port} 1\n`,
    );
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const probe = new Redis(sentinelPort, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 100,
    });
    probe.on('error', () => undefined);
    await waitFor(
      async () => {
        const answer = (await probe
          .call('SENTINEL', 'get-master-addr-by-name', 'relay')
          .catch(() => null)) as string[] | null;
        return answer?.[1] === String(primary.port);
      },
      { what: 'the sentinel' },
    );
    probe.disconnect();
  });
  afterAll(async () => {
    sentinel.kill('SIGKILL');
    await primary.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds the primary through the sentinel and relays', async () => {
    const gw = await startGateway({ REDIS_URL: `redis-sentinel://127.0.0.1:${sentinelPort}/relay` });
    try {
      const result = await sendMail(gw.smtpPort, {
        from: 'app@example.com',
        to: ['u@example.net'],
        message: simpleMessage(),
      });
      expect(result.data?.code).toBe(250);
      await waitFor(() => gw.ses.sends.length === 1);
    } finally {
      await gw.stop();
    }
  });
});
