// The servers behind one client: itself for a single server or a Sentinel-managed master, every
// master for a Cluster. Used where a command means something only on a particular server: INFO and
// CONFIG describe the node that answers, and WAIT counts the writes of the connection it is sent on.
import net from 'node:net';
import type { Cluster, Redis } from 'ioredis';
import { keySlot } from './hash-tag.js';

/** The client as a Cluster, when it is one (the factory hands every client out typed as Redis). */
export function asCluster(redis: Redis): Cluster | undefined {
  return (redis as { isCluster?: boolean }).isCluster === true ? (redis as unknown as Cluster) : undefined;
}

/** Waits (within the connection's command timeout) until the Cluster knows its slots and nodes. */
async function clusterReady(cluster: Cluster): Promise<void> {
  if (cluster.status !== 'ready') await cluster.ping();
}

/** The masters to inspect: the client itself, or each master of a Cluster. */
export async function masterNodes(redis: Redis): Promise<Redis[]> {
  const cluster = asCluster(redis);
  if (!cluster) return [redis];
  await clusterReady(cluster);
  const masters = cluster.nodes('master');
  if (masters.length === 0) throw new Error('the Cluster reported no masters');
  return masters;
}

/**
 * The connection a Cluster uses for `key`: that of the master owning its slot, which is also the one
 * that carried every write to that slot. A single server or Sentinel client is its own node.
 */
export function nodeOwning(redis: Redis, key: string): Redis | undefined {
  const cluster = asCluster(redis);
  if (!cluster) return redis;
  // ioredis names nodes "host:port" in its slot table and keeps one connection per name.
  const owner = cluster.slots[keySlot(key)]?.[0];
  return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === owner);
}

export type NodeEndpoint = { host: string; port: number } | { path: string };

/**
 * The server a connection talks to: as configured, or as announced by the Cluster; for a master
 * found through Sentinel, where the connection actually went (known once it has connected).
 */
export function nodeEndpoint(node: Redis): NodeEndpoint {
  const { options, stream } = node;
  if (options.path) return { path: options.path };
  // `stream` is unset until the first connection attempt.
  if (options.sentinels?.length && stream?.remoteAddress && stream.remotePort) {
    return { host: stream.remoteAddress, port: stream.remotePort };
  }
  return { host: options.host ?? '127.0.0.1', port: options.port ?? 6379 };
}

/** `host:port` (`[v6]:port`) or a socket path, for messages. */
export function nodeAddress(node: Redis): string {
  const endpoint = nodeEndpoint(node);
  if ('path' in endpoint) return endpoint.path;
  return net.isIPv6(endpoint.host)
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}
