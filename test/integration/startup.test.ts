// Start-up does not hang on SES: the HTTP role answers /healthz (and /readyz `starting`) while the
// worker starts, the worker waits for the first GetAccount only briefly, and an account it could not
// read at start is read as soon as SES answers, not at the next SES_ACCOUNT_REFRESH.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

describe('start-up while SES is slow', () => {
  let ses: FakeSes;
  let gw: TestGateway | undefined;
  beforeEach(async () => {
    ses = await startFakeSes();
  });
  afterEach(async () => {
    // Stopping the fake first ends the GetAccount calls it is still holding.
    await ses.stop();
    await gw?.stop();
    gw = undefined;
  });

  it('answers /healthz and says `starting` on /readyz while the worker waits, then starts without GetAccount', async () => {
    ses.latencyMs = 60_000;
    const httpPort = await freePort();
    const startedAt = Date.now();
    const starting = startGateway(
      { ROLES: 'worker,http', HTTP_PORT: String(httpPort), SES_REQUEST_TIMEOUT: '40s' },
      { ses },
    );
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 10_000,
      what: '/healthz to answer during start-up',
    });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('starting');

    gw = await starting;
    // Well before SES_REQUEST_TIMEOUT (40 s): the worker waits 5 s for GetAccount at most.
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(gw.logs.some((l) => l.msg.startsWith('ses.account_pending'))).toBe(true);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    // Until GetAccount answers: SES_MAX_SEND_RATE (the test gateway sets 1000) and no known quota.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^ses_relay_pacing_rate 1000$/m);
    expect(metrics).toMatch(/^ses_relay_quota_headroom -1$/m);
  });

  it('reads an account it could not read at start within SES_PAUSE_PROBE_INTERVAL once SES answers', async () => {
    ses.latencyMs = 30_000;
    const starting = startGateway(
      { ROLES: 'worker', SES_REQUEST_TIMEOUT: '1s', SES_PAUSE_PROBE_INTERVAL: '300ms' },
      { ses },
    );
    gw = await starting;
    const running = gw;
    await waitFor(() => running.logs.some((l) => l.msg.startsWith('ses.account_unreadable')), {
      what: 'the first GetAccount to fail',
    });
    ses.latencyMs = 0;
    await waitFor(() => running.logs.some((l) => l.msg === 'ses.account' && l.max24HourSend === 50_000), {
      timeoutMs: 5000,
      what: 'the account to be read by the probe',
    });
  });
});
