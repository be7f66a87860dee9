// A local three-master Redis Cluster started from the redis-server binary, for the Cluster tests.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { freePort, PrivateRedis } from './redis.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface LocalCluster {
  url: string;
  nodes: PrivateRedis[];
  stop(): Promise<void>;
}

export async function startLocalCluster(): Promise<LocalCluster> {
  const nodes: PrivateRedis[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    nodes.push(
      await new PrivateRedis(port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
      ]).start(),
    );
  }
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
  return {
    url,
    nodes,
    async stop() {
      for (const node of nodes) await node.stop();
    },
  };
}
