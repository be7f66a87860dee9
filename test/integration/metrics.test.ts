import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

/** Parses Prometheus text exposition into name{labels} → value. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`malformed exposition line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

const EXPECTED_METRICS = [
  'ses_relay_smtp_connections_total',
  'ses_relay_messages_accepted_total',
  'ses_relay_messages_refused_total',
  'ses_relay_recipients_suppressed_total',
  'ses_relay_queue_jobs',
  'ses_relay_queue_oldest_waiting_seconds',
  'ses_relay_ses_calls_total',
  'ses_relay_ses_call_duration_seconds',
  'ses_relay_recipients_sent_total',
  'ses_relay_pacing_rate',
  'ses_relay_quota_headroom',
  'ses_relay_sns_notifications_total',
  'ses_relay_suppression_list_size',
  'ses_relay_bounce_rate',
  'ses_relay_complaint_rate',
  'ses_relay_sending_held',
  'ses_relay_redis_up',
  'ses_relay_process_cpu_user_seconds_total',
  'ses_relay_nodejs_heap_size_used_bytes',
];

describe('Prometheus metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SMTP_ALLOWED_SENDERS: 'app@example.com' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('exposes every documented metric and counts traffic', async () => {
    const ok = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['a@example.net', 'b@example.net'],
      message: simpleMessage(),
    });
    expect(ok.data?.code).toBe(250);
    const refused = await sendMail(gw.smtpPort, {
      from: 'x@evil.example',
      to: ['a@example.net'],
      message: '',
    });
    expect(refused.mail.code).toBe(553);
    await waitFor(() => gw.ses.sends.length === 1);

    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of EXPECTED_METRICS) expect(text, name).toContain(`# TYPE ${name} `);
    const samples = parseExposition(text);
    expect(samples.get('ses_relay_messages_accepted_total')).toBe(1);
    expect(samples.get('ses_relay_messages_refused_total{reason="sender"}')).toBe(1);
    expect(samples.get('ses_relay_smtp_connections_total')).toBe(2);
    await waitFor(
      async () =>
        parseExposition(await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text()).get(
          'ses_relay_recipients_sent_total',
        ) === 2,
    );
    const later = parseExposition(await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text());
    expect(later.get('ses_relay_ses_calls_total{outcome="sent"}')).toBe(1);
    expect(later.get('ses_relay_ses_call_duration_seconds_count')).toBe(1);
    expect(later.get('ses_relay_pacing_rate')).toBe(1000);
    expect(later.has('ses_relay_queue_jobs{state="waiting"}')).toBe(true);
    expect(later.get('ses_relay_quota_headroom')).toBe(50000 - 2);
    expect(later.get('ses_relay_redis_up')).toBe(1);
    // Known labels start at 0, so the first throttle or size refusal is an increase Prometheus sees.
    expect(later.get('ses_relay_ses_calls_total{outcome="throttled"}')).toBe(0);
    expect(later.get('ses_relay_messages_refused_total{reason="size"}')).toBe(0);
  });

  it("counts SES's SentLast24Hours in the quota headroom when other senders make it the larger", async () => {
    const ses = await startFakeSes();
    ses.account = {
      ...ses.account,
      SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 1200 },
    };
    const worker = await startGateway({ ROLES: 'worker,http' }, { ses });
    try {
      await waitFor(
        async () =>
          parseExposition(await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text()).get(
            'ses_relay_quota_headroom',
          ) ===
          50000 - 1200,
        { what: 'the headroom to count the account-wide figure' },
      );
    } finally {
      await worker.stop();
      await ses.stop();
    }
  });

  it('exports only the metrics of the roles the process runs: no worker gauges from an http-only process', async () => {
    const http = await startGateway({ ROLES: 'http' }, { ses: gw.ses });
    try {
      const text = await (await fetch(`http://127.0.0.1:${http.httpPort}/metrics`)).text();
      for (const name of [
        'ses_relay_quota_headroom',
        'ses_relay_pacing_rate',
        'ses_relay_ses_calls_total',
        'ses_relay_messages_accepted_total',
      ]) {
        expect(text, name).not.toContain(`# TYPE ${name} `);
      }
      const samples = parseExposition(text);
      expect(samples.has('ses_relay_queue_jobs{state="waiting"}')).toBe(true);
      expect(samples.get('ses_relay_redis_up')).toBe(1);
    } finally {
      await http.stop();
    }
  });

  it('counts only POSTs to the SNS path as SNS notifications', async () => {
    const base = `http://127.0.0.1:${gw.httpPort}`;
    for (const [method, path] of [
      ['GET', '/sns/foo'],
      ['POST', '/sns/foo'],
      ['DELETE', '/sns'],
      ['GET', '/sns'],
      ['PUT', '/SNS/'],
    ] as const) {
      expect((await fetch(base + path, { method })).status, `${method} ${path}`).toBe(404);
    }
    // Both doors: the fast path (plain body) and the express router (chunked, so no Content-Length).
    expect((await fetch(`${base}/sns`, { method: 'POST', body: '{}' })).status).toBe(403);
    const chunked = new Blob(['{}']).stream();
    const routed = await fetch(`${base}/sns`, { method: 'POST', body: chunked, duplex: 'half' });
    expect(routed.status).toBe(403);

    const samples = parseExposition(await (await fetch(`${base}/metrics`)).text());
    const sns = [...samples].filter(
      ([name, value]) => name.startsWith('ses_relay_sns_notifications_total{') && value > 0,
    );
    expect(sns).toEqual([
      ['ses_relay_sns_notifications_total{type="other",result="403",code="SNS_RAW_DELIVERY"}', 2],
    ]);
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    const locked = await startGateway({ METRICS_TOKEN: 's3cret-token', ROLES: 'http' }, { ses: gw.ses });
    try {
      const denied = await fetch(`http://127.0.0.1:${locked.httpPort}/metrics`);
      expect(denied.status).toBe(401);
      expect(await denied.json()).toEqual({
        error: { code: 'UNAUTHORIZED', message: 'Bearer token required' },
      });
      const allowed = await fetch(`http://127.0.0.1:${locked.httpPort}/metrics`, {
        headers: { authorization: 'Bearer s3cret-token' },
      });
      expect(allowed.status).toBe(200);
    } finally {
      await locked.stop();
    }
  });

  it('reads the token as /admin does: the scheme in any case, after one space or more', async () => {
    const token = 'scheme-token';
    const locked = await startGateway(
      { METRICS_TOKEN: token, ADMIN_TOKEN: 'admin-token', ROLES: 'http' },
      { ses: gw.ses },
    );
    const status = async (path: string, authorization: string) =>
      (await fetch(`http://127.0.0.1:${locked.httpPort}${path}`, { headers: { authorization } })).status;
    try {
      for (const scheme of ['bearer', 'BEARER', 'Bearer ']) {
        expect({ scheme, status: await status('/metrics', `${scheme} ${token}`) }).toEqual({
          scheme,
          status: 200,
        });
        expect({ scheme, status: await status('/admin/api/stats', `${scheme} admin-token`) }).toEqual({
          scheme,
          status: 200,
        });
      }
      for (const wrong of [
        `bearer ${token}x`,
        `bearer ${token.slice(1)}`,
        `Basic ${token}`,
        token,
        'Bearer ',
      ])
        expect({ wrong, status: await status('/metrics', wrong) }).toEqual({ wrong, status: 401 });
    } finally {
      await locked.stop();
    }
  });
});
