// Start-up checks of the Redis that holds acknowledged mail. A server older than BullMQ needs, or
// one that may evict (anything but `noeviction` would silently drop queued messages) stops
// start-up with the fix. Without AOF and without a
// replica, a Redis restart loses everything acknowledged since the last snapshot: a warning. So is
// REDIS_WAIT_REPLICAS above the replicas connected: every message would be refused 451.
// Read through INFO, which managed services (ElastiCache, MemoryDB) allow where CONFIG GET is off,
// from every master of a Cluster: the deployment's slot can move to any of them.
import type { Redis } from 'ioredis';
import { RelayError } from './errors.js';
import type { Logger } from './logger.js';
import { masterNodes, nodeAddress } from './redis-nodes.js';

export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

/** Whether a maxmemory-policy may evict keys; a Redis that does not say ('unknown') counts as safe. */
function mayEvict(policy: string | undefined): policy is string {
  return policy !== undefined && policy !== 'noeviction' && policy !== 'unknown';
}

/** The policy when it may evict keys, else undefined. */
export function evictingPolicy(info: Record<string, string>): string | undefined {
  const policy = info.maxmemory_policy;
  return mayEvict(policy) ? policy : undefined;
}

/** BullMQ's own floor; the gateway's queues skip BullMQ's check (outbound.ts), so it is made here. */
export const MIN_REDIS_VERSION = '6.2';

/** Compares dotted versions numerically: 6.10 is newer than 6.9. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const have = version.split('.').map(Number);
  const want = minimum.split('.').map(Number);
  for (let i = 0; i < want.length; i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export interface DurabilityReport {
  /** The master the report is about, as host:port (see nodeAddress). */
  node: string;
  version: string;
  maxmemoryPolicy: string;
  aofEnabled: boolean;
  replicas: number;
}

async function readNode(node: Redis): Promise<DurabilityReport> {
  const info = parseInfo(
    [
      await node.info('server'),
      await node.info('memory'),
      await node.info('persistence'),
      await node.info('replication'),
    ].join('\n'),
  );
  return {
    node: nodeAddress(node),
    version: info.redis_version ?? 'unknown',
    maxmemoryPolicy: info.maxmemory_policy ?? 'unknown',
    aofEnabled: info.aof_enabled === '1',
    replicas: Number(info.connected_slaves ?? '0'),
  };
}

/**
 * One report per master: the server itself, or every master of a Cluster (INFO sent to a Cluster
 * client goes to any one node, which says nothing about the others).
 */
export async function readDurability(redis: Redis): Promise<DurabilityReport[]> {
  return Promise.all((await masterNodes(redis)).map(readNode));
}

/** Throws the start-up refusal for masters that cannot hold the queue: too old, or evicting. */
export function refuseUnfitMasters(reports: DurabilityReport[]): void {
  const old = reports.filter((r) => r.version !== 'unknown' && !versionAtLeast(r.version, MIN_REDIS_VERSION));
  if (old.length > 0) {
    const found = old.map((r) => `${r.version} on ${r.node}`).join(', ');
    throw new RelayError(
      'REDIS_TOO_OLD',
      `Redis ${found}: the gateway needs Redis ${MIN_REDIS_VERSION} or newer (7.x recommended).`,
    );
  }
  const evicting = reports.filter((r) => mayEvict(r.maxmemoryPolicy));
  if (evicting.length > 0) {
    const found = evicting.map((r) => `"${r.maxmemoryPolicy}" on ${r.node}`).join(', ');
    throw new RelayError(
      'REDIS_EVICTION_POLICY',
      `Redis maxmemory-policy is ${found}: under memory pressure Redis would delete queued mail. ` +
        'Set it to noeviction (redis-cli CONFIG SET maxmemory-policy noeviction, and "maxmemory-policy noeviction" ' +
        "in redis.conf or the managed service's parameter group).",
    );
  }
}

/** The masters with fewer connected replicas than REDIS_WAIT_REPLICAS waits for. */
export function mastersShortOfReplicas(
  reports: DurabilityReport[],
  waitReplicas: number,
): DurabilityReport[] {
  return waitReplicas > 0 ? reports.filter((r) => r.replicas < waitReplicas) : [];
}

export async function checkRedisDurability(
  redis: Redis,
  logger: Logger,
  waitReplicas = 0,
): Promise<DurabilityReport[]> {
  const reports = await readDurability(redis);
  refuseUnfitMasters(reports);
  const short = mastersShortOfReplicas(reports, waitReplicas);
  if (short.length > 0) {
    // A warning, not a refusal: replicas may be catching up after a restart of their own.
    logger.warn(
      { waitReplicas, replicas: short.map((r) => `${r.node}: ${r.replicas}`) },
      `redis.replicas_missing: REDIS_WAIT_REPLICAS is ${waitReplicas} but fewer replicas are connected; until they are, every message waits REDIS_WAIT_TIMEOUT and is refused 451 4.3.0`,
    );
  }
  const exposed = reports.filter((r) => !r.aofEnabled && r.replicas === 0);
  if (exposed.length > 0) {
    logger.warn(
      { redisVersion: exposed[0]?.version, nodes: exposed.map((r) => r.node) },
      'redis.not_durable: neither AOF nor a replica protects acknowledged mail; a Redis restart loses what was queued since the last snapshot (enable appendonly yes, appendfsync everysec)',
    );
  }
  return reports;
}
