import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUserDirectory, parseUsersText, UsersFileError } from '../../src/auth/index.js';
import { dummyHash } from '../../src/auth/password-verifier.js';
import { createLogger } from '../../src/shared/logger.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';

// The example of PHP's password_verify() documentation: password_hash() writes $2y$, as htpasswd -B does.
const PHP_2Y_HASH = '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a';
const PHP_2Y_PASSWORD = 'rasmuslerdorf';

let hash: string;
beforeAll(async () => {
  hash = await bcrypt.hash('s3cret', 4);
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => removeTempDirs());

function issuesOf(text: string, file = 'users.yaml'): string[] {
  try {
    parseUsersText(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(UsersFileError);
    return (err as UsersFileError).issues;
  }
  throw new Error('expected the file to be refused');
}

function writeTemp(name: string, text: string): string {
  const file = path.join(tempDir('users'), name);
  fs.writeFileSync(file, text);
  return file;
}

describe('users file parsing', () => {
  it('reads YAML with every policy field', () => {
    const [stored] = parseUsersText(
      [
        'users:',
        '  - username: billing-app',
        `    password: '${hash}'`,
        '    allowedSenders: [Billing@Example.com, "@Corp.Example", "@Bücher.de"]',
        '    configurationSet: billing_set-1',
        '    tags: { team: billing, priority: 2 }',
        '    fromEmailAddressIdentityArn: arn:aws:ses:eu-west-1:123456789012:identity/example.com',
        '    rateShare: 2.5',
        '    dailyCap: 10000',
      ].join('\n'),
      '/etc/users.yml',
    );
    expect(stored?.passwordHash).toBe(hash);
    expect(stored?.user).toEqual({
      username: 'billing-app',
      allowedSenders: ['billing@example.com', '@corp.example', '@xn--bcher-kva.de'],
      configurationSet: 'billing_set-1',
      tags: [
        { Name: 'team', Value: 'billing' },
        { Name: 'priority', Value: '2' },
      ],
      fromEmailAddressIdentityArn: 'arn:aws:ses:eu-west-1:123456789012:identity/example.com',
      rateShare: 2.5,
      dailyCap: 10000,
    });
  });

  it('reads JSON by extension, with defaults for the optional fields', () => {
    const users = parseUsersText(JSON.stringify({ users: [{ username: 'a', password: hash }] }), 'u.json');
    expect(users.map((stored) => stored.user)).toEqual([{ username: 'a', allowedSenders: [], tags: [] }]);
  });

  it('reads JSON content from a file without a known extension (YAML takes JSON)', () => {
    const users = parseUsersText(JSON.stringify({ users: [{ username: 'a', password: hash }] }), 'users');
    expect(users).toHaveLength(1);
  });

  it('reports every problem of every user at once, named by user and field', () => {
    const issues = issuesOf(
      [
        'users:',
        '  - username: ok',
        `    password: '${hash}'`,
        '  - username: app',
        '    password: plaintext-oops',
        '    allowedSenders: [not-an-address]',
        '    tags: { "bad tag": x, good: "has space" }',
        '    fromEmailAddressIdentityArn: arn:aws:iam::123456789012:user/x',
        '    configurationSet: "no spaces allowed"',
        '    rateShare: -1',
        '    dailyCap: 1.5',
        '    alowedSenders: []',
        '  - username: ok',
        `    password: '${hash}'`,
        '  - password: 42',
      ].join('\n'),
    );
    expect(issues).toEqual([
      expect.stringMatching(/^users\[1\] \("app"\)\.password: expected a bcrypt hash/),
      expect.stringMatching(/^users\[1\] \("app"\)\.allowedSenders\[0\]: expected an address or an @domain/),
      expect.stringMatching(/^users\[1\] \("app"\)\.configurationSet: /),
      expect.stringMatching(/^users\[1\] \("app"\)\.tags\.bad tag: tag names may hold only/),
      expect.stringMatching(/^users\[1\] \("app"\)\.tags\.good: tag values may hold only/),
      expect.stringMatching(
        /^users\[1\] \("app"\)\.fromEmailAddressIdentityArn: expected an SES identity ARN/,
      ),
      expect.stringMatching(/^users\[1\] \("app"\)\.rateShare: /),
      expect.stringMatching(/^users\[1\] \("app"\)\.dailyCap: expected a whole number/),
      'users[1] ("app"): unknown field(s) alowedSenders',
      'users[2] ("ok").username: duplicate of users[0]',
      expect.stringMatching(/^users\[3\]\.username: /),
      expect.stringMatching(/^users\[3\]\.password: /),
    ]);
    // A password pasted in place of its hash must not be repeated into logs.
    expect(issues.join('\n')).not.toContain('plaintext-oops');
  });

  it('names the file in the error message', () => {
    expect(() => parseUsersText('users: 3', '/etc/ses-relay/users.yaml')).toThrow(
      /^SMTP_USERS_FILE \/etc\/ses-relay\/users\.yaml is invalid \(1 problem\):\n {2}users: /,
    );
  });

  it('refuses tags over 256 characters and accepts exactly 256', () => {
    const tags = (value: string) =>
      `users:\n  - username: a\n    password: '${hash}'\n    tags: { t: ${value} }`;
    expect(parseUsersText(tags('v'.repeat(256)), 'u.yaml')[0]?.user.tags[0]?.Value).toHaveLength(256);
    expect(issuesOf(tags('v'.repeat(257)))).toEqual([expect.stringMatching(/tags\.t: tag values may hold/)]);
  });

  it('refuses a hash above cost 15, naming the user, and accepts cost 15', () => {
    // An unknown name is checked against a dummy as costly as the dearest hash: a cost-31 hash would
    // make every AUTH with a made-up name a CPU-bound wait of days.
    const file = (cost: number) =>
      JSON.stringify({
        users: [
          { username: 'ok', password: hash },
          { username: 'dear', password: dummyHash(cost) },
        ],
      });
    expect(parseUsersText(file(15), 'u.json')).toHaveLength(2);
    for (const cost of [16, 31]) {
      expect(issuesOf(file(cost), 'u.json')).toEqual([
        `users[1] ("dear").password: bcrypt cost ${cost} is above 15, the most accepted: an unknown name ` +
          "is checked at the file's highest cost, so every AUTH would take that much CPU; rehash it with " +
          '`ses-relay user hash` (cost 12 by default)',
      ]);
    }
    // A string that is no bcrypt hash keeps its one message, however its digits read.
    expect(issuesOf(JSON.stringify({ users: [{ username: 'x', password: '$2b$99$x' }] }), 'u.json')).toEqual([
      expect.stringMatching(/^users\[0\] \("x"\)\.password: expected a bcrypt hash/),
    ]);
  });

  it('accepts identity ARNs of every partition', () => {
    for (const arn of [
      'arn:aws:ses:us-east-1:123456789012:identity/example.com',
      'arn:aws-us-gov:ses:us-gov-west-1:123456789012:identity/user@example.com',
      'arn:aws-cn:ses:cn-north-1:123456789012:identity/example.cn',
    ]) {
      const text = `users:\n  - username: a\n    password: '${hash}'\n    fromEmailAddressIdentityArn: '${arn}'`;
      expect(parseUsersText(text, 'u.yaml')[0]?.user.fromEmailAddressIdentityArn).toBe(arn);
    }
    const bad = `users:\n  - username: a\n    password: '${hash}'\n    fromEmailAddressIdentityArn: 'arn:aws:ses:us-east-1:12345:identity/x'`;
    expect(issuesOf(bad)).toHaveLength(1);
  });

  it('reports YAML syntax errors by position without quoting the file', () => {
    const issues = issuesOf('users:\n  - username: a\n    password: [hunter2\n');
    expect(issues[0]).toMatch(/^not valid YAML at line \d+, column \d+: /);
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  it('reports JSON syntax errors by position without quoting the file', () => {
    const issues = issuesOf('{"users": [{"username": "a", "password": hunter2}]}', 'users.json');
    expect(issues).toEqual([expect.stringMatching(/^not valid JSON/)]);
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  it('refuses a file that is not a mapping with a users list', () => {
    expect(issuesOf('- username: a')).toEqual(['expected a mapping with a "users" list']);
    expect(issuesOf('users: []\nextra: 1')).toEqual(['unknown field(s) extra']);
  });
});

describe('user directory authentication', () => {
  const logger = createLogger('silent');

  it('verifies an htpasswd-style $2y$ hash as it is', async () => {
    const file = writeTemp('users.yaml', `users:\n  - username: php\n    password: '${PHP_2Y_HASH}'\n`);
    const users = await createUserDirectory({ path: file, logger });
    try {
      expect((await users.authenticate('php', PHP_2Y_PASSWORD))?.username).toBe('php');
      expect(await users.authenticate('php', 'rasmuslerdorF')).toBeUndefined();
    } finally {
      users.close();
    }
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const file = writeTemp('users.yaml', `users:\n  - username: app\n    password: '${hash}'\n`);
    const users = await createUserDirectory({ path: file, logger });
    try {
      expect(await users.authenticate('app', 's3cret')).toEqual({
        username: 'app',
        allowedSenders: [],
        tags: [],
      });
      expect(await users.authenticate('app', 'wrong')).toBeUndefined();
      expect(await users.authenticate('nobody', 's3cret')).toBeUndefined();
      expect(users.get('app')?.username).toBe('app');
      expect(users.get('nobody')).toBeUndefined();
    } finally {
      users.close();
    }
  });

  it('runs bcrypt for an unknown user, against a dummy hash of the users’ cost', async () => {
    const file = writeTemp('users.yaml', `users:\n  - username: app\n    password: '${hash}'\n`);
    const users = await createUserDirectory({ path: file, logger });
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      expect(await users.authenticate('nobody', 's3cret')).toBeUndefined();
      expect(compare).toHaveBeenCalledTimes(1);
      expect(compare).toHaveBeenCalledWith('s3cret', dummyHash(4));
      expect(bcrypt.getRounds(dummyHash(4))).toBe(bcrypt.getRounds(hash));
      expect(await bcrypt.compare('', dummyHash(4))).toBe(false);
    } finally {
      users.close();
    }
  });

  it('checks an unknown user at the cost of the most expensive hash in the file, however few have it', async () => {
    const costly = await bcrypt.hash('other', 6);
    const file = writeTemp(
      'users.json',
      JSON.stringify({
        users: [
          { username: 'a', password: hash },
          { username: 'b', password: hash },
          { username: 'c', password: hash },
          { username: 'd', password: costly },
        ],
      }),
    );
    const users = await createUserDirectory({ path: file, logger });
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      expect(await users.authenticate('nobody', 's3cret')).toBeUndefined();
      expect(compare).toHaveBeenCalledExactlyOnceWith('s3cret', dummyHash(6));
    } finally {
      users.close();
    }
  });

  /** Loads `users` and returns the log lines the load wrote. */
  async function loadLogs(users: { username: string; password: string }[]) {
    const raw: string[] = [];
    const capture = createLogger('info', { write: (line: string) => void raw.push(line) });
    const directory = await createUserDirectory({
      path: writeTemp('users.json', JSON.stringify({ users })),
      logger: capture,
    });
    directory.close();
    return { raw, lines: raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
  }

  it('warns at load about hashes below cost 10, naming the users and never a hash', async () => {
    const { raw, lines } = await loadLogs([
      { username: 'weak', password: hash },
      { username: 'php', password: PHP_2Y_HASH },
    ]);
    expect(lines.filter((line) => line.msg === 'auth.users.weak_hash')).toEqual([
      expect.objectContaining({
        level: 'warn',
        users: [{ username: 'weak', cost: 4 }],
        maxCost: 10,
        minCost: 10,
        fix: 'rehash each with `ses-relay user hash --cost 10`',
      }),
    ]);
    expect(raw.join('')).not.toContain(hash);
  });

  it('names at load every user whose hash is cheaper than the dearest in the file, even at cost 10 or more', async () => {
    // An unknown name is checked at cost 12 here: 'app' and 'ops' answer sooner, which tells that
    // they exist, though cost 10 and 11 are not weak by themselves.
    const { raw, lines } = await loadLogs([
      { username: 'app', password: PHP_2Y_HASH },
      { username: 'ops', password: dummyHash(11) },
      { username: 'admin', password: dummyHash(12) },
      { username: 'crm', password: dummyHash(12) },
    ]);
    const warned = lines.filter((line) => line.msg === 'auth.users.weak_hash');
    expect(warned).toEqual([
      expect.objectContaining({
        level: 'warn',
        users: [
          { username: 'app', cost: 10 },
          { username: 'ops', cost: 11 },
        ],
        maxCost: 12,
        fix: 'rehash each with `ses-relay user hash --cost 12`',
      }),
    ]);
    expect(warned[0]?.why).toMatch(/cheaper than the file's dearest hash \(cost 12\)/);
    expect(raw.join('')).not.toContain(PHP_2Y_HASH);
  });

  it('warns about no hash when all cost the same, 10 or more', async () => {
    const { lines } = await loadLogs([
      { username: 'app', password: PHP_2Y_HASH },
      { username: 'crm', password: dummyHash(10) },
    ]);
    expect(lines.filter((line) => line.msg === 'auth.users.weak_hash')).toEqual([]);
  });

  it('refuses a password longer than 72 bytes whose first 72 bytes match, still running bcrypt', async () => {
    const long = 'p'.repeat(72);
    const file = writeTemp(
      'users.json',
      JSON.stringify({ users: [{ username: 'a', password: await bcrypt.hash(long, 4) }] }),
    );
    const users = await createUserDirectory({ path: file, logger });
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      expect(await users.authenticate('a', long)).toBeDefined();
      expect(await users.authenticate('a', `${long}extra`)).toBeUndefined();
      expect(compare).toHaveBeenCalledWith(`${long}extra`, dummyHash(4));
    } finally {
      users.close();
    }
  });

  it('remembers verified credentials instead of running bcrypt again', async () => {
    const file = writeTemp('users.yaml', `users:\n  - username: app\n    password: '${hash}'\n`);
    const users = await createUserDirectory({ path: file, logger });
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      await users.authenticate('app', 's3cret');
      await users.authenticate('app', 's3cret');
      await users.authenticate('app', 'wrong');
      await users.authenticate('app', 'wrong');
      expect(compare).toHaveBeenCalledTimes(3);
    } finally {
      users.close();
    }
  });

  it('shares one bcrypt run between concurrent checks of one name and password, whether or not the name exists', async () => {
    // A password spray: parallel AUTHs with one wrong password. Were only a real user's checks
    // shared, it would cost one bcrypt run for a real name and one per attempt for an unknown one,
    // and the answer time would tell which names exist.
    const file = writeTemp('users.yaml', `users:\n  - username: app\n    password: '${hash}'\n`);
    const users = await createUserDirectory({ path: file, logger });
    const compare = vi.spyOn(bcrypt, 'compare');
    const spray = (username: string, password: string) =>
      Promise.all(Array.from({ length: 5 }, () => users.authenticate(username, password)));
    try {
      expect(await spray('app', 'wrong')).toEqual(Array(5).fill(undefined));
      expect(compare).toHaveBeenCalledTimes(1);
      compare.mockClear();
      expect(await spray('nobody', 'wrong')).toEqual(Array(5).fill(undefined));
      expect(compare).toHaveBeenCalledExactlyOnceWith('wrong', dummyHash(4));
      compare.mockClear();
      // Over 72 bytes, a real name is checked against the dummy too, shared all the same.
      expect(await spray('app', 'p'.repeat(73))).toEqual(Array(5).fill(undefined));
      expect(compare).toHaveBeenCalledExactlyOnceWith('p'.repeat(73), dummyHash(4));
      compare.mockClear();
      // A run is shared only while it lasts: the next spray runs bcrypt again.
      await spray('nobody', 'wrong');
      expect(compare).toHaveBeenCalledTimes(1);
    } finally {
      users.close();
    }
  });

  it('runs bcrypt once per name for one password tried at several names, real or not', async () => {
    const file = writeTemp(
      'users.json',
      JSON.stringify({
        users: [
          { username: 'a', password: hash },
          { username: 'b', password: hash },
        ],
      }),
    );
    const users = await createUserDirectory({ path: file, logger });
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      await Promise.all(['a', 'b'].map((name) => users.authenticate(name, 'wrong')));
      expect(compare).toHaveBeenCalledTimes(2);
      compare.mockClear();
      await Promise.all(['x', 'y'].map((name) => users.authenticate(name, 'wrong')));
      expect(compare).toHaveBeenCalledTimes(2);
      // The right password at an unknown name is refused, even while a real name's run is shared.
      const [real, unknown] = await Promise.all([
        users.authenticate('a', 's3cret'),
        users.authenticate('x', 's3cret'),
      ]);
      expect(real?.username).toBe('a');
      expect(unknown).toBeUndefined();
    } finally {
      users.close();
    }
  });

  it('rejects start-up with every problem when the file is invalid or missing', async () => {
    const file = writeTemp('users.yaml', 'users:\n  - username: a\n    password: x\n');
    await expect(createUserDirectory({ path: file, logger })).rejects.toThrow(UsersFileError);
    await expect(createUserDirectory({ path: `${file}.missing`, logger })).rejects.toThrow(
      /is invalid \(1 problem\):\n {2}cannot be read: ENOENT/,
    );
  });
});
