// A local three-master Redis Cluster started from the redis-server binary, for the Cluster tests;
// optionally with one replica, on the first master only.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort, PrivateRedis } from './redis.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface LocalCluster {
  url: string;
  /** The three masters. */
  nodes: PrivateRedis[];
  /** With `replicaOfFirst`: a replica of nodes[0], the only master that has one. */
  replica?: PrivateRedis | undefined;
  stop(): Promise<void>;
}

async function startClusterNode(): Promise<PrivateRedis> {
  const port = await freePort();
  return new PrivateRedis(port, [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    `nodes-${port}.conf`,
    '--cluster-node-timeout',
    '2000',
  ]).start();
}

/** Adds `replica` to the cluster as a replica of `master` and waits until it is in sync. */
async function addReplica(master: PrivateRedis, replica: PrivateRedis): Promise<void> {
  const client = new Redis(master.port, '127.0.0.1');
  try {
    const masterId = String(await client.cluster('MYID'));
    await run('redis-cli', [
      '--cluster',
      'add-node',
      `127.0.0.1:${replica.port}`,
      `127.0.0.1:${master.port}`,
      '--cluster-slave',
      '--cluster-master-id',
      masterId,
    ]);
    // A replica acknowledges writes (WAIT) once its initial sync is over and the master sees it online.
    await waitFor(async () => (await client.info('replication')).includes('state=online'), {
      timeoutMs: 20_000,
      what: 'the replica to be online',
    });
  } finally {
    client.disconnect();
  }
}

export async function startLocalCluster({ replicaOfFirst = false } = {}): Promise<LocalCluster> {
  const nodes: PrivateRedis[] = [];
  for (let i = 0; i < 3; i++) nodes.push(await startClusterNode());
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
  const url = `redis-cluster://${addresses.join(',')}`;
  const probe = new Cluster(nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
  probe.on('error', () => undefined);
  try {
    await waitFor(
      async () => {
        const info = String(await probe.cluster('INFO').catch(() => ''));
        return info.includes('cluster_state:ok');
      },
      { timeoutMs: 15_000, what: 'the cluster to be ok' },
    );
  } finally {
    probe.disconnect();
  }
  let replica: PrivateRedis | undefined;
  if (replicaOfFirst && nodes[0]) {
    replica = await startClusterNode();
    await addReplica(nodes[0], replica);
  }
  return {
    url,
    nodes,
    replica,
    async stop() {
      for (const node of [...nodes, ...(replica ? [replica] : [])]) await node.stop();
    },
  };
}
