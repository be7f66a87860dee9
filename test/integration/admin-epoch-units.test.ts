// Dates in the admin API are read as the suppression import reads them: an epoch number that looks
// like seconds or microseconds is refused naming the field, rather than stored decades away, where
// an expiry past JavaScript's last date broke every later CSV export, lookup and listing of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

const TOKEN = 'admin-epoch-test-token';
let gw: TestGateway;
let base: string;

beforeAll(async () => {
  gw = await startGateway({ ADMIN_TOKEN: TOKEN });
  base = `http://127.0.0.1:${gw.httpPort}/admin/api`;
});
afterAll(() => gw.stop());

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.startsWith('application/json') && text !== '';
  return {
    status: res.status,
    text,
    json: isJson
      ? (JSON.parse(text) as { error: { code: string; field: string; message: string }; items: unknown[] })
      : undefined,
  };
}

describe('admin API: epoch numbers', () => {
  it('refuses an expiresAt in epoch microseconds or past the last date, as the import does', async () => {
    const micros = (Date.now() + 86_400_000) * 1000;
    for (const expiresAt of [micros, String(micros), 8_640_000_000_000_001, Number.MAX_SAFE_INTEGER]) {
      const res = await call('POST', '/suppressions', { address: 'far@example.com', expiresAt });
      expect(res.status, String(expiresAt)).toBe(400);
      expect(res.json!.error, String(expiresAt)).toMatchObject({
        code: 'ADMIN_BAD_REQUEST',
        field: 'expiresAt',
      });
      expect(res.json!.error.message).toMatch(/epoch microseconds/);
    }
    expect((await call('GET', '/suppressions/far@example.com')).status).toBe(404);
    // The import refuses the same value on its line.
    const imported = await fetch(`${base}/suppressions/import?format=jsonl`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
      body: JSON.stringify({ address: 'far@example.com', expiresAt: micros }),
    });
    expect(((await imported.json()) as { invalid: number }).invalid).toBe(1);
  });

  it('refuses a since in epoch seconds, which would list every entry', async () => {
    const res = await call('GET', `/suppressions?since=${Math.floor(Date.now() / 1000)}`);
    expect(res.status).toBe(400);
    expect(res.json!.error).toMatchObject({ code: 'ADMIN_BAD_REQUEST', field: 'since' });
    expect(res.json!.error.message).toMatch(/epoch seconds/);
  });

  it('still takes epoch milliseconds and ISO dates, and exports what it took', async () => {
    const expiresAt = Date.now() + 86_400_000;
    expect((await call('POST', '/suppressions', { address: 'ms@example.com', expiresAt })).status).toBe(201);
    const iso = new Date(expiresAt).toISOString();
    expect((await call('POST', '/suppressions', { address: 'iso@example.com', expiresAt: iso })).status).toBe(
      201,
    );
    expect((await call('GET', `/suppressions?since=${Date.now() - 60_000}`)).json!.items).toHaveLength(2);
    const exported = await call('GET', '/suppressions/export?format=csv');
    expect(exported.status).toBe(200);
    expect(exported.text).toContain(`ms@example.com,manual,`);
    expect(exported.text).toContain(iso);
  });
});
