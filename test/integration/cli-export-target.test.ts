import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { runCli, startCli } from '../helpers/cli-run.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const HEADER = 'address,reason,since,expires_at';
const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('ses-relay suppression export --out (a real process)', () => {
  const prefix = uniquePrefix('cli-export-out');
  const env = { REDIS_PREFIX: prefix };
  const redis = new Redis(TEST_REDIS_URL);
  const store = createSuppressionStore({ redis, prefix });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-export-'));
  const export_ = (out: string, extra: Record<string, string> = {}) =>
    runCli(['suppression', 'export', '--out', out], { ...env, ...extra });

  beforeAll(async () => {
    await store.suppress('kept@example.com', { reason: 'bounce' });
  });
  beforeEach(() => {
    for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { force: true });
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates a new file readable by its owner only, and keeps the mode of a file it replaces', async () => {
    const fresh = path.join(dir, 'fresh.csv');
    const privateFile = path.join(dir, 'private.csv');
    const shared = path.join(dir, 'shared.csv');
    fs.writeFileSync(privateFile, 'old\n', { mode: 0o600 });
    fs.writeFileSync(shared, 'old\n');
    fs.chmodSync(shared, 0o640);
    const results = await Promise.all([export_(fresh), export_(privateFile), export_(shared)]);
    for (const result of results) expect(result.code).toBe(0);
    expect(mode(fresh)).toBe(0o600);
    expect(mode(privateFile)).toBe(0o600);
    expect(mode(shared)).toBe(0o640);
    expect(fs.readFileSync(privateFile, 'utf8')).toMatch(
      new RegExp(`^${HEADER}\nkept@example\\.com,bounce,`),
    );
    expect(fs.readdirSync(dir).sort()).toEqual(['fresh.csv', 'private.csv', 'shared.csv']);
  });

  it('writes through a symlink to its target, leaving the link in place', async () => {
    const target = path.join(dir, 'target.csv');
    const link = path.join(dir, 'link.csv');
    fs.writeFileSync(target, 'old\n', { mode: 0o600 });
    fs.symlinkSync(target, link);
    const result = await export_(link);
    expect(result.code).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toContain('kept@example.com,bounce,');
    expect(mode(target)).toBe(0o600);
  });

  it('writes into a FIFO, leaving it a FIFO', async () => {
    const fifo = path.join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A reader of its own: if the FIFO were replaced, the reader would wait for ever, not the test.
    const reader = spawn('cat', [fifo]);
    let read = '';
    reader.stdout.on('data', (chunk: Buffer) => (read += chunk.toString()));
    try {
      const result = await export_(fifo);
      expect(result.code).toBe(0);
      expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
      await waitFor(() => read.includes('kept@example.com'), { what: 'the reader to get the export' });
      expect(read.startsWith(`${HEADER}\n`)).toBe(true);
    } finally {
      reader.kill();
    }
  });

  it('takes --out - as stdout and creates no file named -', async () => {
    const dash = path.resolve('-');
    const existed = fs.existsSync(dash);
    try {
      const result = await export_('-');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^${HEADER}\nkept@example\\.com,bounce,`));
      expect(result.stderr).toBe('exported 1 entry (csv)\n');
      expect(fs.existsSync(dash)).toBe(existed);
    } finally {
      if (!existed) fs.rmSync(dash, { force: true });
    }
  });

  it('removes its temporary file and exits 130 when interrupted with Ctrl-C (SIGINT)', async () => {
    // A Redis that accepts the connection and never answers holds the export after it opened its file.
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const out = path.join(dir, 'interrupted.csv');
    try {
      const running = startCli(['suppression', 'export', '--out', out], {
        ...env,
        REDIS_URL: `redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
      });
      await waitFor(() => fs.readdirSync(dir).length > 0, { what: 'the temporary file' });
      running.child.kill('SIGINT');
      const result = await running.done;
      expect(result.code).toBe(130);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
