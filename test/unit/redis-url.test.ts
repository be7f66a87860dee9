import { describe, expect, it } from 'vitest';
import {
  describeRedisUrl,
  parseRedisTarget,
  redisUrlKind,
  redisUrlProblem,
} from '../../src/shared/redis-url.js';

describe('Sentinel and Cluster URLs', () => {
  it('reads a user name and a password, percent-decoded', () => {
    expect(parseRedisTarget('redis-sentinel://relay:p%40ss@10.0.0.1,10.0.0.2:26380/mail')).toEqual({
      kind: 'sentinel',
      name: 'mail',
      username: 'relay',
      password: 'p@ss',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
    });
    expect(parseRedisTarget('rediss-cluster://relay:pw@a:7000,b')).toEqual({
      kind: 'cluster',
      username: 'relay',
      password: 'pw',
      tls: true,
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 6379 },
      ],
    });
  });

  it('reads bracketed IPv6 addresses, with and without a port', () => {
    expect(parseRedisTarget('redis-cluster://[::1]:41701,[fd00::2]')).toMatchObject({
      nodes: [
        { host: '::1', port: 41701 },
        { host: 'fd00::2', port: 6379 },
      ],
    });
  });

  it('takes the master name mymaster when none is given, and allows a trailing slash on a Cluster', () => {
    expect(parseRedisTarget('redis-sentinel://h')).toMatchObject({ name: 'mymaster' });
    expect(redisUrlProblem('redis-cluster://h:7000/')).toBeUndefined();
  });

  it.each([
    ['redis-cluster://[::1', /host has brackets but no IPv6|write an IPv6 address/],
    ['redis-cluster://[nothost]:7000', /has brackets but no IPv6 address/],
    ['redis-cluster://::1:7000', /write an IPv6 address in brackets/],
    ['redis-cluster://127.0.0.1:notaport', /the host has no valid port/],
    ['redis-cluster://h:0', /no valid port \(a number from 1 to 65535\)/],
    ['redis-cluster://h:65536', /no valid port/],
    ['redis-cluster://h:', /no valid port/],
    ['redis-cluster://h1:7000,,h2:7001', /host 2 of 3 is empty/],
    ['redis-cluster://h1:7000,', /host 2 of 2 is empty/],
    ['redis-cluster://', /the host is empty/],
    ['redis-cluster://h!:7000', /no valid host name/],
    ['redis-cluster://h:7000/0', /nothing may follow the hosts/],
    ['redis-sentinel://h:26379/relay/0', /only one path segment/],
    ['redis-sentinel://h:26379/re%ZZlay', /master name/],
    ['redis-sentinel://s3cret@h:26379/relay', /needs a colon: user:password@ or :password@/],
    ['redis-sentinel://:p@ss@h:26379/relay', /more than one "@": write an "@" .* as %40/],
    ['redis-sentinel://:p%zz@h/relay', /"%" that does not start an escape/],
  ])('refuses %s', (url, problem) => {
    expect(redisUrlProblem(url)).toMatch(problem);
    expect(() => parseRedisTarget(url)).toThrow(problem);
  });

  it('never repeats any part of the URL in a problem: a password can land anywhere in a typo', () => {
    for (const url of [
      'redis-sentinel://:S3cr3t@ss@h/relay',
      'redis-sentinel://:S3cr3t/pw@h/relay',
      'redis-cluster://u:S3cr3t@h:S3cr3t',
      'redis-cluster://u:S3cr3t@S3cr3t!',
    ]) {
      expect(redisUrlProblem(url)).toBeDefined();
      expect(redisUrlProblem(url)).not.toMatch(/S3cr3t|ss@|pw@/);
    }
  });

  it('leaves one-server URLs to ioredis and checks only their shape', () => {
    expect(redisUrlProblem('redis://:pw@h:6379/2')).toBeUndefined();
    expect(redisUrlProblem('redis://h/cache')).toMatch(/^expected redis:\/\/host:port\[\/db\]/);
    expect(redisUrlKind('redis://h')).toBe('single');
    expect(redisUrlKind('redis-sentinel://h/x/y')).toBe('sentinel');
    expect(redisUrlKind('rediss-cluster://h')).toBe('cluster');
  });

  it('describes where a URL points without its credentials', () => {
    expect(describeRedisUrl('redis://:pw@cache.internal:6380/2')).toBe('cache.internal:6380');
    expect(describeRedisUrl('unix:///run/redis.sock')).toBe('/run/redis.sock');
    expect(describeRedisUrl('redis-sentinel://u:pw@a,b:26380/relay')).toBe(
      'master "relay" via Sentinel a:26379,b:26380',
    );
    expect(describeRedisUrl('redis-cluster://u:pw@[::1]:7000,h')).toBe('Cluster [::1]:7000,h:6379');
  });
});
