// SMTP_PROCESSES > 1, the primary's care of its children: a child restarted during shutdown still
// stops (it used to miss the stop order and be killed at the overrun), and /readyz says so when no
// child is left to answer the port while restarts fail, trying again less and less often.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startMainCli } from '../helpers/cli-run.js';
import { deleteKeys, freePort, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

interface Gateway {
  process: ChildProcess;
  httpPort: number;
  prefix: string;
  output(): string;
  lines(msg: string): Record<string, unknown>[];
  exit: Promise<number | null>;
}

const running: Gateway[] = [];
const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

async function startGateway(env: Record<string, string>): Promise<Gateway> {
  const prefix = uniquePrefix('smtp-life');
  const httpPort = await freePort();
  const cli = startMainCli(['start'], {
    ROLES: 'smtp,http',
    SMTP_PROCESSES: '2',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(await freePort()),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    ...env,
  });
  const child = cli.child;
  const out = () => cli.stdout();
  const gateway: Gateway = {
    process: child,
    httpPort,
    prefix,
    output: out,
    lines: (msg) =>
      out()
        .split('\n')
        .filter((line) => line.includes(`"msg":"${msg}"`))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    exit: cli.done.then((result) => result.code),
  };
  running.push(gateway);
  await waitFor(() => out().split('"msg":"app.started"').length === 4 || child.exitCode !== null, {
    timeoutMs: 30_000,
    what: 'the primary and both SMTP processes to start',
  });
  expect(child.exitCode).toBeNull();
  return gateway;
}

function childPids(pid: number): number[] {
  const text = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text ? text.split(' ').map(Number) : [];
}

async function readyz(port: number): Promise<{ status: number; body: { problems: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as { problems: string[] } };
}

afterEach(async () => {
  for (const gateway of running.splice(0)) {
    if (gateway.process.exitCode === null) gateway.process.kill('SIGKILL');
    await gateway.exit;
    await deleteKeys(redis, gateway.prefix);
  }
});

describe('SMTP child processes', () => {
  it('stops a child that was being restarted when SIGTERM came, without waiting for the overrun', async () => {
    const gateway = await startGateway({ SHUTDOWN_TIMEOUT: '20s' });
    const primary = gateway.process.pid!;
    const [victim, survivor] = (gateway.lines('smtp.processes_started')[0]!.pids as number[]).slice(0, 2);
    process.kill(victim!, 'SIGKILL');
    // The replacement is forked a second later; SIGTERM goes the moment it exists, long before it
    // has loaded enough to take orders from the primary.
    await waitFor(() => childPids(primary).some((pid) => pid !== victim && pid !== survivor), {
      timeoutMs: 10_000,
      intervalMs: 5,
      what: 'the replacement child to be forked',
    });
    gateway.process.kill('SIGTERM');
    const code = await gateway.exit;
    expect(code).toBe(0);
    expect(gateway.lines('smtp.processes_stop_overrun')).toEqual([]);
    // The replacement did start and then stopped on its own order, not on a SIGKILL.
    const started = gateway.lines('app.started').filter((line) => line.smtpProcess === 0);
    expect(started.length).toBe(2);
  });

  it('reports no SMTP process on /readyz while restarts fail, backing off, and recovers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-users-'));
    const usersFile = path.join(dir, 'users.yaml');
    fs.writeFileSync(usersFile, 'users: []\n');
    try {
      const gateway = await startGateway({ SMTP_USERS_FILE: usersFile });
      expect((await readyz(gateway.httpPort)).status).toBe(200);
      // A users file broken since start-up keeps any new child from starting.
      fs.writeFileSync(usersFile, 'users: [ {\n');
      for (const pid of gateway.lines('smtp.processes_started')[0]!.pids as number[])
        process.kill(pid, 'SIGKILL');
      await waitFor(async () => (await readyz(gateway.httpPort)).status === 503, {
        timeoutMs: 10_000,
        what: '/readyz to turn 503',
      });
      expect((await readyz(gateway.httpPort)).body.problems).toContain('smtp processes: 0 of 2 running');
      await waitFor(() => gateway.lines('smtp.process_restart_failed').length >= 4, {
        timeoutMs: 20_000,
        what: 'two failed restarts of each child',
      });
      const delays = gateway
        .lines('smtp.process_restart_failed')
        .filter((line) => line.smtpProcess === 0)
        .map((line) => line.nextTryInMs);
      expect(delays.slice(0, 2)).toEqual([2000, 4000]);
      fs.writeFileSync(usersFile, 'users: []\n');
      await waitFor(async () => (await readyz(gateway.httpPort)).status === 200, {
        timeoutMs: 20_000,
        what: '/readyz to be 200 again once a child starts',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
