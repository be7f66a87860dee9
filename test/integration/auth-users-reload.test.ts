import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUserDirectory, type ReloadOutcome, type UserDirectory } from '../../src/auth/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { removeTempDirs, replaceFile, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const hashes: Record<string, string> = {};
const usersYaml = (entries: [string, string][]) =>
  `users:\n${entries.map(([name, password]) => `  - username: ${name}\n    password: '${hashes[password]}'\n`).join('')}`;

function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = createLogger('debug', {
    write: (line: string) => {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { logger, lines, raw };
}

describe('users file reload', () => {
  let directory: UserDirectory | undefined;
  beforeAll(async () => {
    for (const password of ['first', 'second', 'third']) hashes[password] = await bcrypt.hash(password, 4);
  });
  afterEach(() => {
    directory?.close();
    directory = undefined;
  });
  afterAll(() => removeTempDirs());

  async function open(file: string) {
    const log = capture();
    const outcomes: ReloadOutcome[] = [];
    directory = await createUserDirectory({
      path: file,
      logger: log.logger,
      debounceMs: 50,
      onReload: (outcome) => outcomes.push(outcome),
    });
    return { users: directory, outcomes, ...log };
  }

  it('accepts the new password after the file is replaced, and the old one no longer', async () => {
    const file = path.join(tempDir('users'), 'users.yaml');
    fs.writeFileSync(file, usersYaml([['app', 'first']]));
    const { users } = await open(file);
    expect(await users.authenticate('app', 'first')).toBeDefined();

    replaceFile(
      file,
      usersYaml([
        ['app', 'second'],
        ['other', 'third'],
      ]),
    );
    await waitFor(async () => (await users.authenticate('app', 'second')) !== undefined, {
      what: 'the new password',
    });
    expect(await users.authenticate('app', 'first')).toBeUndefined();
    expect(users.size).toBe(2);

    // Written in place rather than renamed over: noticed all the same.
    fs.writeFileSync(file, usersYaml([['app', 'third']]));
    await waitFor(async () => (await users.authenticate('app', 'third')) !== undefined, {
      what: 'in-place edit',
    });
  });

  it('keeps the loaded users when a reload fails, logs every problem, and recovers on the next good file', async () => {
    const file = path.join(tempDir('users'), 'users.yml');
    fs.writeFileSync(file, usersYaml([['app', 'first']]));
    const { users, outcomes, lines, raw } = await open(file);

    replaceFile(file, 'users:\n  - username: app\n    password: plain-text-oops\n  - username: 7\n');
    const failed = await waitFor(() => outcomes.find((o) => !o.ok), { what: 'the failed reload' });
    expect(failed.ok).toBe(false);
    expect(await users.authenticate('app', 'first')).toBeDefined();
    const logged = lines.find((line) => line.msg === 'auth.users.reload_failed');
    expect(logged?.level).toBe('error');
    expect(logged?.issues).toEqual([
      expect.stringMatching(/^users\[0\] \("app"\)\.password: /),
      expect.stringMatching(/^users\[1\]\.username: /),
      expect.stringMatching(/^users\[1\]\.password: /),
    ]);
    expect(raw.join('')).not.toContain('plain-text-oops');

    // Put back as it was: nothing changes, but the failure is over and says so.
    replaceFile(file, usersYaml([['app', 'first']]));
    await waitFor(() => outcomes.at(-1)?.ok, { what: 'the revert' });
    expect(outcomes.at(-1)).toEqual({ ok: true, users: 1, changed: false });

    replaceFile(file, usersYaml([['app', 'second']]));
    await waitFor(async () => (await users.authenticate('app', 'second')) !== undefined, {
      what: 'recovery',
    });
    expect(outcomes.at(-1)).toEqual({ ok: true, users: 1, changed: true });
  });

  it('reloads on demand (SIGHUP) and has the new users when reload() resolves', async () => {
    const file = path.join(tempDir('users'), 'users.json');
    fs.writeFileSync(file, JSON.stringify({ users: [{ username: 'a', password: hashes.first }] }));
    const { users } = await open(file);
    fs.writeFileSync(file, JSON.stringify({ users: [{ username: 'b', password: hashes.second }] }));
    expect(await users.reload()).toMatchObject({ ok: true, users: 1 });
    expect(users.get('b')?.username).toBe('b');
    expect(users.get('a')).toBeUndefined();
  });

  it('refuses a reload with a hash above cost 15 and keeps the loaded users', async () => {
    const file = path.join(tempDir('users'), 'users.json');
    fs.writeFileSync(file, JSON.stringify({ users: [{ username: 'a', password: hashes.first }] }));
    const { users, lines } = await open(file);
    // A syntactically valid cost-31 hash: were it loaded, every unknown name would cost days of CPU.
    const costly = `$2b$31$${'.'.repeat(22)}${'A'.repeat(31)}`;
    fs.writeFileSync(
      file,
      JSON.stringify({
        users: [
          { username: 'a', password: hashes.second },
          { username: 'dear', password: costly },
        ],
      }),
    );
    const outcome = await users.reload();
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? [] : outcome.error.issues).toEqual([
      expect.stringMatching(/^users\[1\] \("dear"\)\.password: bcrypt cost 31 is above 15/),
    ]);
    expect(lines.find((line) => line.msg === 'auth.users.reload_failed')).toMatchObject({
      level: 'error',
      issues: [expect.stringContaining('("dear")')],
    });
    expect(users.get('dear')).toBeUndefined();
    expect(await users.authenticate('a', 'first')).toBeDefined();
    expect(await users.authenticate('a', 'second')).toBeUndefined();
  });

  it('follows a Kubernetes-style volume, where a ..data symlink is swapped', async () => {
    const dir = tempDir('users');
    const version = (name: string, content: string) => {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, 'users.yaml'), content);
    };
    version('v1', usersYaml([['app', 'first']]));
    fs.symlinkSync('v1', path.join(dir, '..data'));
    fs.symlinkSync(path.join('..data', 'users.yaml'), path.join(dir, 'users.yaml'));
    const { users } = await open(path.join(dir, 'users.yaml'));
    expect(await users.authenticate('app', 'first')).toBeDefined();

    version('v2', usersYaml([['app', 'second']]));
    fs.symlinkSync('v2', path.join(dir, '..data_tmp'));
    fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await waitFor(async () => (await users.authenticate('app', 'second')) !== undefined, {
      what: 'the swapped volume',
    });
  });
});
