// Reads REDIS_URL: one server (redis://, rediss://, unix://, handed to ioredis as it is), Sentinels
// (redis-sentinel://) or a Cluster (redis-cluster://, rediss-cluster://). The multi-host forms are
// parsed and checked here, host by host, so that a typo is a configuration error at start and not
// a connection that never works. Problems name positions, never text from the URL: a mistyped
// password can end up anywhere in it.
import net from 'node:net';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'sentinel';
      name: string;
      sentinels: RedisNodeAddress[];
      username?: string | undefined;
      password?: string | undefined;
    }
  | {
      kind: 'cluster';
      nodes: RedisNodeAddress[];
      username?: string | undefined;
      password?: string | undefined;
      tls: boolean;
    };

type Parsed = { target: RedisTarget; problem?: undefined } | { target?: undefined; problem: string };

const MULTI_HOST = /^(redis-sentinel|redis-cluster|rediss-cluster):\/\/(.*)$/s;
/** A host name or IPv4 address: what DNS and /etc/hosts accept, plus `_` (container names). */
const HOST_NAME = /^[A-Za-z0-9_.-]+$/;
const PORT = /^\d{1,5}$/;

function ordinal(index: number, count: number): string {
  return count === 1 ? 'the host' : `host ${index + 1} of ${count}`;
}

function portOf(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const port = PORT.test(text) ? Number(text) : 0;
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
function parseHost(entry: string, defaultPort: number, where: string): RedisNodeAddress | string {
  if (entry === '') return `${where} is empty (two commas in a row, or one at either end?)`;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (!net.isIPv6(host)) return `${where} has brackets but no IPv6 address in them`;
  } else {
    if (entry.startsWith('[')) return `${where}: write an IPv6 address as [address]:port`;
    const parts = entry.split(':');
    if (parts.length > 2) return `${where}: write an IPv6 address in brackets, as [address]:port`;
    host = parts[0] ?? '';
    portText = parts[1];
    if (!HOST_NAME.test(host)) return `${where} has no valid host name (letters, digits, . - _)`;
  }
  const port = portOf(portText, defaultPort);
  if (port === undefined) return `${where} has no valid port (a number from 1 to 65535)`;
  return { host, port };
}

function parseHosts(text: string, defaultPort: number): RedisNodeAddress[] | string {
  const entries = text.split(',');
  const hosts: RedisNodeAddress[] = [];
  for (const [index, entry] of entries.entries()) {
    const host = parseHost(entry, defaultPort, ordinal(index, entries.length));
    if (typeof host === 'string') return host;
    hosts.push(host);
  }
  return hosts;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** `user:password` or `:password`; `%40` for an `@` in either. */
function parseCredentials(userinfo: string): { username?: string; password?: string } | string {
  const colon = userinfo.indexOf(':');
  if (colon < 0) return 'the part before "@" needs a colon: user:password@ or :password@';
  const username = decode(userinfo.slice(0, colon));
  const password = decode(userinfo.slice(colon + 1));
  if (username === undefined || password === undefined) {
    return 'the user name or password has a "%" that does not start an escape such as %40: write "%" as %25';
  }
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseMasterName(path: string | undefined): string | { problem: string } {
  if (path === undefined || path === '') return 'mymaster';
  const name = decode(path);
  if (path.includes('/')) return { problem: 'only one path segment may follow the hosts: /<master name>' };
  if (name === undefined || /[\s?#]/.test(name)) {
    return { problem: 'the master name after the hosts has characters a Sentinel name cannot have' };
  }
  return name;
}

function parseMultiHost(scheme: string, rest: string): Parsed {
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? undefined : rest.slice(slash + 1);
  const at = authority.indexOf('@');
  const hostText = at < 0 ? authority : authority.slice(at + 1);
  if (hostText.includes('@')) {
    return { problem: 'more than one "@": write an "@" in the user name or password as %40' };
  }
  const credentials = at < 0 ? {} : parseCredentials(authority.slice(0, at));
  if (typeof credentials === 'string') return { problem: credentials };
  if (scheme === 'redis-sentinel') {
    const sentinels = parseHosts(hostText, 26379);
    if (typeof sentinels === 'string') return { problem: sentinels };
    const name = parseMasterName(path);
    if (typeof name !== 'string') return name;
    return { target: { kind: 'sentinel', name, sentinels, ...credentials } };
  }
  const nodes = parseHosts(hostText, 6379);
  if (typeof nodes === 'string') return { problem: nodes };
  if (path !== undefined && path !== '') {
    return { problem: 'a Cluster has no databases or names: nothing may follow the hosts' };
  }
  return { target: { kind: 'cluster', nodes, ...credentials, tls: scheme === 'rediss-cluster' } };
}

/** A URL that ioredis reads itself: `redis://` / `rediss://` with a host and at most a database number, or a socket. */
function singleUrlIsValid(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  if (parsed.protocol === 'unix:') return parsed.pathname.length > 1;
  return (
    (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') &&
    parsed.hostname !== '' &&
    /^\/?\d*$/.test(parsed.pathname)
  );
}

const SINGLE_URL_FORMS =
  'expected redis://host:port[/db], rediss://…, unix:///path/to/socket, redis-sentinel://host:port,…/master or redis-cluster://host:port,…';

function parse(url: string): Parsed {
  const match = MULTI_HOST.exec(url);
  if (!match)
    return singleUrlIsValid(url) ? { target: { kind: 'single', url } } : { problem: SINGLE_URL_FORMS };
  const [, scheme = '', rest = ''] = match;
  const parsed = parseMultiHost(scheme, rest);
  return parsed.problem === undefined ? parsed : { problem: `${scheme}:// URL: ${parsed.problem}` };
}

/** Which kind of deployment REDIS_URL names, by its scheme alone (valid or not). */
export function redisUrlKind(url: string): RedisTarget['kind'] {
  const scheme = MULTI_HOST.exec(url)?.[1];
  if (scheme === undefined) return 'single';
  return scheme === 'redis-sentinel' ? 'sentinel' : 'cluster';
}

/** What is wrong with REDIS_URL, in words that never repeat any of it; undefined when it is usable. */
export function redisUrlProblem(url: string): string | undefined {
  return parse(url).problem;
}

export function redisUrlIsValid(url: string): boolean {
  return redisUrlProblem(url) === undefined;
}

/**
 * `redis-sentinel://[user:password@]host:26379,host2:26379/<master name>` and
 * `redis-cluster://[user:password@]host:6379,host2:6379` (`rediss-cluster://` for TLS); anything
 * else is handed to ioredis as a plain URL. Throws on a URL that redisUrlProblem refuses.
 */
export function parseRedisTarget(url: string): RedisTarget {
  const parsed = parse(url);
  if (parsed.target) return parsed.target;
  // A plain URL that is not valid still goes to ioredis as it is, which reports it when connecting.
  if (!MULTI_HOST.test(url)) return { kind: 'single', url };
  throw new Error(`REDIS_URL: ${parsed.problem}`);
}

function addressText({ host, port }: RedisNodeAddress): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where REDIS_URL points, for messages: host and port, never credentials. */
export function describeRedisUrl(url: string): string {
  const parsed = parse(url);
  const target = parsed.target;
  if (target?.kind === 'sentinel') {
    return `master "${target.name}" via Sentinel ${target.sentinels.map(addressText).join(',')}`;
  }
  if (target?.kind === 'cluster') return `Cluster ${target.nodes.map(addressText).join(',')}`;
  if (!URL.canParse(url)) return 'REDIS_URL';
  const single = new URL(url);
  if (single.protocol === 'unix:') return single.pathname;
  return `${single.hostname}:${single.port || '6379'}`;
}
