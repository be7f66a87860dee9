import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-run.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

/** What a terminal would act on: C0 controls but the line feed, DEL, C1 controls. */
// eslint-disable-next-line no-control-regex -- matching them is the point
const TERMINAL_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('ses-relay output with control characters in the data (a real process)', () => {
  const prefix = uniquePrefix('cli-controls');
  const env = { REDIS_PREFIX: prefix };
  const redis = new Redis(TEST_REDIS_URL);
  const quoted = '"\u001b]0;PWNED\u0007\u001b[31mred"@example.com';

  beforeAll(async () => {
    const lines = [
      JSON.stringify({ address: quoted }),
      JSON.stringify({
        address: 'diag@example.com',
        reason: 'bounce',
        bounceType: 'Permanent',
        diagnosticCode: 'smtp; 550 \u001b[2J\u001b]0;owned\u0007 user\u009b unknown',
      }),
    ];
    const imported = await runCli(
      ['suppression', 'import', '--format', 'jsonl', '-'],
      env,
      `${lines.join('\n')}\n`,
    );
    expect(imported.code).toBe(0);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('escapes them in lists, checks and JSON, which still parses to the stored values', async () => {
    const [list, check, json] = await Promise.all([
      runCli(['suppression', 'list'], env),
      runCli(['suppression', 'check', 'diag@example.com'], env),
      runCli(['suppression', 'list', '--json'], env),
    ]);
    for (const result of [list, check, json]) expect(result.stdout).not.toMatch(TERMINAL_CONTROLS);
    expect(list.stdout).toContain('"\\x1b]0;pwned\\x07\\x1b[31mred"@example.com');
    expect(list.stdout).toContain('smtp; 550 \\x1b[2J\\x1b]0;owned\\x07 user\\x9b unknown');
    expect(check.stdout).toContain('  Permanent/- smtp; 550 \\x1b[2J');
    const items = (JSON.parse(json.stdout) as { items: { diagnosticCode?: string }[] }).items;
    expect(items.map((item) => item.diagnosticCode).filter(Boolean)).toEqual([
      'smtp; 550 \u001b[2J\u001b]0;owned\u0007 user\u009b unknown',
    ]);
  });
});
