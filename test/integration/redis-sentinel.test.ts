import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createRedisFactory, parseRedisTarget } from '../../src/shared/redis.js';
import { startGateway, type LogLine } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { startSentinel, type LocalSentinel } from '../helpers/redis-sentinel.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const message = { from: 'app@example.com', to: ['u@example.net'], message: simpleMessage() };

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
  let sentinel: LocalSentinel;
  beforeAll(async () => {
    primary = await startPrivateRedis();
    sentinel = await startSentinel(primary.port);
  });
  afterAll(async () => {
    await sentinel.stop();
    await primary.stop();
  });

  it('finds the primary through the sentinel and relays', async () => {
    const gw = await startGateway({ REDIS_URL: `redis-sentinel://127.0.0.1:${sentinel.port}/relay` });
    try {
      const result = await sendMail(gw.smtpPort, message);
      expect(result.data?.code).toBe(250);
      await waitFor(() => gw.ses.sends.length === 1);
    } finally {
      await gw.stop();
    }
  });
});

describe('Redis behind a Sentinel that requires a password, with an ACL user on the primary', () => {
  let primary: PrivateRedis;
  let sentinel: LocalSentinel;
  beforeAll(async () => {
    // The default user has a password of its own, so a client that drops the user name fails.
    primary = await startPrivateRedis([
      ...['--user', 'relay', 'on', '>relay-pw', '~*', '&*', '+@all'],
      ...['--requirepass', 'default-pw'],
    ]);
    sentinel = await startSentinel(primary.port, {
      conf: [
        'requirepass sentinel-pw',
        'sentinel auth-user relay relay',
        'sentinel auth-pass relay relay-pw',
      ],
      password: 'sentinel-pw',
    });
  });
  afterAll(async () => {
    await sentinel.stop();
    await primary.stop();
  });

  it('authenticates to the Sentinel with REDIS_SENTINEL_PASSWORD and to the primary as the URL user', async () => {
    const gw = await startGateway({
      REDIS_URL: `redis-sentinel://relay:relay-pw@127.0.0.1:${sentinel.port}/relay`,
      REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      // Spares the start computing how many 200 ms retries fill QUEUE_MAX_AGE.
      SEND_MAX_ATTEMPTS: '3',
    });
    try {
      const result = await sendMail(gw.smtpPort, message);
      expect(result.data?.code).toBe(250);
      await waitFor(() => gw.ses.sends.length === 1);
      expect(await gw.redis.acl('WHOAMI')).toBe('relay');
      expect(gw.logs.filter((l) => l.msg === 'redis.error')).toEqual([]);
    } finally {
      await gw.stop();
    }
  });
});

describe('Redis errors while no Sentinel answers', () => {
  it('logs a retried error once although ioredis puts a growing delay into its message', async () => {
    const logs: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line) logs.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    const client = createRedisFactory({
      url: 'redis-sentinel://127.0.0.1:1/relay',
      intakeTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      logger: createLogger('info', sink),
    })('command', 'sentinel-probe');
    const errors: string[] = [];
    client.on('error', (err: Error) => errors.push(err.message));
    try {
      await waitFor(() => new Set(errors).size >= 4, { what: 'several retries with different delays' });
      expect(logs.filter((l) => l.msg === 'redis.error')).toHaveLength(1);
    } finally {
      client.disconnect();
    }
  });
});
