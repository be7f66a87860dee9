import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliResult } from '../helpers/cli-run.js';
import { waitFor } from '../helpers/wait.js';

/** Commands against a silent Redis time out after this (REDIS_COMMAND_TIMEOUT; 10 s by default). */
const COMMAND_TIMEOUT = { REDIS_COMMAND_TIMEOUT: '2s' };
/** A command must have failed well before this. */
const FAIL_WITHIN_MS = 20_000;

/** Runs the CLI and waits for it to exit, at most `FAIL_WITHIN_MS`: a hung command fails the test. */
async function runWithin(args: string[], env: Record<string, string>): Promise<CliResult> {
  const running = startCli(args, env);
  let result: CliResult | undefined;
  void running.done.then((done) => (result = done));
  try {
    return await waitFor(() => result, { timeoutMs: FAIL_WITHIN_MS, what: `ses-relay ${args.join(' ')}` });
  } finally {
    if (result === undefined) running.child.kill('SIGKILL');
  }
}

describe('ses-relay when Redis cannot be reached (a real process)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-cli-noredis-'));
  /** Accepts connections and never answers, like a hung Redis or a black-holing proxy. */
  const silent = net.createServer(() => undefined);
  const held: net.Socket[] = [];
  let silentUrl: string;

  beforeAll(async () => {
    silent.on('connection', (socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails queue retry-failed promptly when nothing listens at REDIS_URL', async () => {
    const result = await runWithin(['queue', 'retry-failed'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ses-relay: cannot reach Redis at 127\.0\.0\.1:1 \(REDIS_URL\): /);
  });

  it('leaves no file behind when an export to --out cannot reach Redis', async () => {
    const out = path.join(dir, 'export.csv');
    const result = await runWithin(['suppression', 'export', '--out', out], {
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ses-relay: cannot reach Redis at 127\.0\.0\.1:1 \(REDIS_URL\): /);
    // Neither the export nor its temporary file (export.csv.<pid>.tmp).
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('says it cannot reach Redis when Redis accepts connections but never answers, after REDIS_COMMAND_TIMEOUT', async () => {
    const started = Date.now();
    const result = await runWithin(['suppression', 'check', 'a@example.com'], {
      REDIS_URL: silentUrl,
      ...COMMAND_TIMEOUT,
    });
    // 2 s for the command and the process's start-up, well under the 10 s default.
    expect(Date.now() - started).toBeLessThan(8000);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `ses-relay: cannot reach Redis at ${silentUrl.replace('redis://', '')} (REDIS_URL): Command timed out\n`,
    );
  });

  it('fails queue stats, suppression check and doctor within the command timeout when no Cluster node answers', async () => {
    // Commands handed to a Cluster client before it has found a node used to wait for ever.
    const nobody = 'redis-cluster://127.0.0.1:1,127.0.0.1:2';
    const silentCluster = silentUrl.replace('redis://', 'redis-cluster://');
    const [stats, check, doctor] = await Promise.all([
      runWithin(['queue', 'stats'], { REDIS_URL: nobody, ...COMMAND_TIMEOUT }),
      runWithin(['suppression', 'check', 'a@example.com'], { REDIS_URL: silentCluster, ...COMMAND_TIMEOUT }),
      runWithin(['doctor'], { REDIS_URL: nobody, SES_ENDPOINT: 'http://127.0.0.1:1', ...COMMAND_TIMEOUT }),
    ]);
    expect(stats.code).toBe(1);
    expect(stats.stderr).toBe(
      'ses-relay: cannot reach Redis at Cluster 127.0.0.1:1,127.0.0.1:2 (REDIS_URL): Command timed out\n',
    );
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(
      /^ses-relay: cannot reach Redis at Cluster 127\.0\.0\.1:\d+ \(REDIS_URL\): /,
    );
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(
      'cannot reach Redis at Cluster 127.0.0.1:1,127.0.0.1:2: Command timed out',
    );
  });

  it('fails queue retry-failed within the command timeout when Redis never answers', async () => {
    const result = await runWithin(['queue', 'retry-failed'], { REDIS_URL: silentUrl, ...COMMAND_TIMEOUT });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ses-relay: cannot reach Redis at 127\.0\.0\.1:\d+ \(REDIS_URL\): /);
  });
});
