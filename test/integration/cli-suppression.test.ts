import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { runCli, startCli } from '../helpers/cli-run.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('ses-relay suppression (a real process)', () => {
  const prefix = uniquePrefix('cli-supp');
  const env = { REDIS_PREFIX: prefix };
  const redis = new Redis(TEST_REDIS_URL);
  const store = createSuppressionStore({ redis, prefix });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-cli-'));

  beforeEach(async () => {
    await deleteKeys(redis, prefix);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('adds, checks, lists and removes addresses, normalised as the SMTP path does', async () => {
    const [added, expiring, refused] = await Promise.all([
      runCli(['suppression', 'add', 'Jane@Example.COM'], env),
      runCli(['suppression', 'add', 'bob@example.net', '--reason', 'complaint', '--expires', '30d'], env),
      runCli(['suppression', 'add', 'not-an-address'], env),
    ]);
    expect(added).toMatchObject({ code: 0, stdout: 'suppressed jane@example.com (manual)\n' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('"not-an-address" is not an email address');
    expect(await store.count()).toBe(2);
    expect(expiring.code).toBe(0);
    expect(expiring.stdout).toMatch(/^suppressed bob@example\.net \(complaint, expires \d{4}-/);
    expect((await store.get('bob@example.net'))?.expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const [suppressed, clear, all, complaints, limited, future] = await Promise.all([
      runCli(['suppression', 'check', 'jane@example.com'], env),
      runCli(['suppression', 'check', 'nobody@example.com'], env),
      runCli(['suppression', 'list', '--json'], env),
      runCli(['suppression', 'list', '--reason', 'complaint'], env),
      runCli(['suppression', 'list', '--limit', '1'], env),
      runCli(['suppression', 'list', '--since', '2099-01-01'], env),
    ]);
    expect(suppressed.code).toBe(1);
    expect(suppressed.stdout).toContain('jane@example.com is suppressed: manual since');
    expect(clear).toMatchObject({ code: 0, stdout: 'nobody@example.com is not suppressed\n' });
    const listed = JSON.parse(all.stdout) as { items: { address: string }[]; more: boolean };
    expect(listed.items.map((item) => item.address).sort()).toEqual(['bob@example.net', 'jane@example.com']);
    expect(listed.more).toBe(false);
    expect(complaints.stdout).toMatch(
      /^ADDRESS\s+REASON\s+SINCE\s+EXPIRES\s+EVENTS\s+DETAIL\nbob@example\.net\s+complaint/,
    );
    expect(complaints.stdout).not.toContain('jane@');
    expect(limited.stdout.trim().split('\n')).toHaveLength(2);
    expect(limited.stderr).toContain('showing the first 1; raise --limit');
    expect(future.stdout).toBe('no suppressed addresses match\n');

    expect(await runCli(['suppression', 'remove', 'jane@example.com'], env)).toMatchObject({
      code: 0,
      stdout: 'removed jane@example.com\n',
    });
    const again = await runCli(['suppression', 'remove', 'jane@example.com'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('jane@example.com is not suppressed');
    expect(await store.isSuppressed('jane@example.com')).toBe(false);
  });

  it('imports CSV and JSON lines, naming each bad line, and exports entries that import back unchanged', async () => {
    const csv = path.join(dir, 'ses-style.csv');
    fs.writeFileSync(csv, 'a@example.com,BOUNCE\nnot-an-address,BOUNCE\nb@example.com,complaint\n\n');
    const fromCsv = await runCli(['suppression', 'import', csv], env);
    expect(fromCsv.code).toBe(1);
    expect(fromCsv.stderr).toContain('2 added, 0 updated, 1 invalid (4 lines)');
    expect(fromCsv.stderr).toContain('line 2: address is not an email address');

    const jsonl = path.join(dir, 'more.jsonl');
    fs.writeFileSync(
      jsonl,
      [
        '{"address":"c@example.com","reason":"manual","expiresAt":"2099-01-01T00:00:00Z"}',
        '{"address":"d@example.com","reason":"complaint","since":"2023-11-14T22:13:20.000Z"}',
        '{"address":',
        '{"address":"a@example.com","reason":"bounce"}',
      ].join('\n'),
    );
    const fromJsonl = await runCli(['suppression', 'import', jsonl, '--json'], env);
    expect(fromJsonl.code).toBe(1);
    expect(JSON.parse(fromJsonl.stdout)).toMatchObject({
      added: 2,
      updated: 1,
      invalid: 1,
      errorDetails: [{ line: 3, error: 'not valid JSON' }],
    });
    expect(await store.get('d@example.com')).toMatchObject({
      reason: 'complaint',
      firstSeen: 1_700_000_000_000,
    });

    const exported = path.join(dir, 'export.jsonl');
    const [exportRun, before] = await Promise.all([
      runCli(['suppression', 'export', '--out', exported], env),
      runCli(['suppression', 'export', '--format', 'csv'], env),
    ]);
    expect(exportRun).toMatchObject({ code: 0, stdout: '' });
    expect(exportRun.stderr).toContain(`exported 4 entries (jsonl) to ${exported}`);
    expect(before.stdout.split('\n')[0]).toBe('address,reason,since,expires_at');

    await deleteKeys(redis, prefix);
    const reimport = await runCli(['suppression', 'import', exported], env);
    expect(reimport.code).toBe(0);
    expect(reimport.stderr).toContain('4 added, 0 updated, 0 invalid');
    const after = await runCli(['suppression', 'export'], env);
    // Address, reason, first suppression and expiry survive the round trip.
    const entries = (text: string) => text.trim().split('\n').slice(1).sort();
    expect(entries(after.stdout)).toEqual(entries(before.stdout));
    expect(entries(after.stdout)).toHaveLength(4);
    expect(after.stdout).toMatch(/^c@example\.com,manual,\S+,2099-01-01T00:00:00\.000Z$/m);
  });

  it('reads an import from stdin with -', async () => {
    const result = await runCli(['suppression', 'import', '-', '--format', 'csv'], env, 'e@example.com\n');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('stdin: 1 added');
    expect((await store.get('e@example.com'))?.reason).toBe('imported');
  });

  it('refuses an address list or an address with specials in its local part, storing nothing', async () => {
    const [list, semicolon, quoted] = await Promise.all([
      runCli(['suppression', 'add', 'a@b.com,c@d.com'], env),
      runCli(['suppression', 'add', 'x;a@b.com'], env),
      runCli(['suppression', 'add', '"x;a"@b.com'], env),
    ]);
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('"a@b.com,c@d.com" is not an email address');
    expect(semicolon.code).toBe(2);
    expect(semicolon.stderr).toContain('"x;a@b.com" is not an email address');
    // Quoted, the same characters are one valid local part.
    expect(quoted).toMatchObject({ code: 0, stdout: 'suppressed "x;a"@b.com (manual)\n' });
    expect(await store.count()).toBe(1);
  });

  it('reports a file it cannot read in one line, exit 1', async () => {
    const missing = path.join(dir, 'nosuch.csv');
    const result = await runCli(['suppression', 'import', missing], env);
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `ses-relay: cannot read ${missing}: no such file or directory\n`,
    });
  });

  it('takes the format from the first line for stdin and for a file name without a known extension', async () => {
    const jsonLines = '\n{"address":"f@example.com","reason":"complaint"}\n{"address":"g@example.com"}\n';
    const txt = path.join(dir, 'list.txt');
    fs.writeFileSync(txt, 'address,reason\nh@example.com,bounce\n');
    const noExtension = path.join(dir, 'feedback');
    fs.writeFileSync(noExtension, '{"address":"i@example.com","reason":"manual"}\n');
    const [stdin, csvFile, jsonFile] = await Promise.all([
      runCli(['suppression', 'import', '-'], env, jsonLines),
      runCli(['suppression', 'import', txt], env),
      runCli(['suppression', 'import', noExtension], env),
    ]);
    expect(stdin.code).toBe(0);
    expect(stdin.stderr).toContain('stdin: 2 added, 0 updated, 0 invalid (3 lines)');
    expect(csvFile.code).toBe(0);
    expect(csvFile.stderr).toContain('1 added, 0 updated, 0 invalid');
    expect(jsonFile.code).toBe(0);
    expect(jsonFile.stderr).toContain('1 added, 0 updated, 0 invalid');
    expect(await store.get('f@example.com')).toMatchObject({ reason: 'complaint' });
    expect(await store.get('g@example.com')).toMatchObject({ reason: 'imported' });
    expect(await store.get('h@example.com')).toMatchObject({ reason: 'bounce' });
    expect(await store.get('i@example.com')).toMatchObject({ reason: 'manual' });
  });

  it('ends an export quietly, exit 0, when the reader of stdout goes away (export | head -1)', async () => {
    // Far more than a pipe buffer holds, so the export is still writing when the reader leaves.
    const entries = 20_000;
    const records = Array.from({ length: entries }, (_, i) => ({
      address: `reader-${i}@example.com`,
      details: { reason: 'manual' as const },
    }));
    expect((await store.importMany(records)).added).toBe(entries);
    const running = startCli(['suppression', 'export'], env);
    // The reader takes the first chunk and closes its end of the pipe, as `head -1` does.
    running.child.stdout!.once('data', () => running.child.stdout!.destroy());
    const result = await running.done;
    expect(result.stdout.startsWith('address,reason,since,expires_at\n')).toBe(true);
    expect(result.stdout.split('\n').length).toBeLessThan(entries);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });
});
