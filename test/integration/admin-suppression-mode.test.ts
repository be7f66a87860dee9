// A suppression list written under another SUPPRESSION_HASH_KEY setting than this process's: the
// store refuses to use it, and the admin API says why, naming the keys and the setting, rather than
// "Internal error", so the admin page tells the operator what to fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'admin-mode-test-token';
const prefix = uniquePrefix('admin-mode');
let gw: TestGateway;
let base: string;

beforeAll(async () => {
  gw = await startGateway(
    { ADMIN_TOKEN: TOKEN, SUPPRESSION_HASH_KEY: 'admin-mode-test-hash-key' },
    { prefix },
  );
  // Written by a process without the key: the list holds plain addresses.
  await createSuppressionStore({ redis: gw.redis, prefix }).suppress('plain@example.com', {
    reason: 'manual',
  });
  base = `http://127.0.0.1:${gw.httpPort}/admin/api`;
});
afterAll(() => gw.stop());

describe('admin API: a suppression list in another addressing mode', () => {
  it('answers every route that reads the list with an error naming the keys and the setting', async () => {
    for (const [method, path] of [
      ['GET', '/stats'],
      ['GET', '/suppressions'],
      ['GET', '/suppressions/plain@example.com'],
      ['GET', '/suppressions/export'],
    ] as const) {
      const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status, path).toBe(500);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code, path).toBe('ADMIN_INTERNAL');
      expect(error.message, path).toContain(`${prefix}:supp:`);
      expect(error.message, path).toMatch(/holds plain addresses, but SUPPRESSION_HASH_KEY is set/);
    }
    expect(gw.logs.filter((line) => line.msg === 'admin.error').length).toBeGreaterThanOrEqual(4);
  });
});
