import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { runCli } from '../helpers/cli-run.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('ses-relay suppression import: what a file holds (a real process)', () => {
  const prefix = uniquePrefix('cli-import-inputs');
  const env = { REDIS_PREFIX: prefix };
  const redis = new Redis(TEST_REDIS_URL);
  const store = createSuppressionStore({ redis, prefix });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-import-'));
  const file = (name: string, content: string | Buffer) => {
    const at = path.join(dir, name);
    fs.writeFileSync(at, content);
    return at;
  };

  beforeEach(async () => {
    await deleteKeys(redis, prefix);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a UTF-16 file (Excel "Unicode text") and a JSON array whole, exit 2, importing nothing', async () => {
    const utf16 = file(
      'unicode.csv',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('address\r\nu16@example.com\r\n', 'utf16le')]),
    );
    const array = file('list.json', '[{"address":"arr1@example.com"},\n{"address":"arr2@example.com"}]\n');
    const [fromUtf16, fromArray, fromArrayAsJsonl] = await Promise.all([
      runCli(['suppression', 'import', utf16], env),
      runCli(['suppression', 'import', array], env),
      runCli(['suppression', 'import', '--format', 'csv', array], env),
    ]);
    expect(fromUtf16.code).toBe(2);
    expect(fromUtf16.stderr).toBe(
      `ses-relay: ${utf16} is UTF-16 text (Excel "Unicode text"), not UTF-8: save it as "CSV UTF-8" and import that; nothing was imported\n`,
    );
    for (const result of [fromArray, fromArrayAsJsonl]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`ses-relay: ${array} is a JSON array; import reads JSON lines`);
    }
    expect(await store.count()).toBe(0);
  });

  it('skips # comments and takes an "Email Address" header, counting neither as invalid', async () => {
    const list = file(
      'people.csv',
      '# exported from the CRM\r\nEmail Address,Reason\r\n# hard bounces\r\nA@Example.com,bounce\r\nb@example.com,complaint\r\n',
    );
    const result = await runCli(['suppression', 'import', list], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`${list}: 2 added, 0 updated, 0 invalid (5 lines)\n`);
    expect(await store.get('a@example.com')).toMatchObject({ reason: 'bounce' });
  });

  it('clamps a since in the future to now and refuses epoch seconds, naming the line', async () => {
    const list = file(
      'dates.csv',
      'address,reason,since\nfuture@example.com,manual,2999-01-01\nsecs@example.com,bounce,1700000000\n',
    );
    const before = Date.now();
    const result = await runCli(['suppression', 'import', list], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${list}: 1 added, 0 updated, 1 invalid (3 lines)\n` +
        '  line 3: since 1700000000 looks like epoch seconds; give epoch milliseconds or an ISO 8601 date\n',
    );
    const future = await store.get('future@example.com');
    expect(future?.firstSeen).toBeGreaterThanOrEqual(before);
    expect(future?.firstSeen).toBeLessThanOrEqual(Date.now());
  });
});
