// Bounce and complaint rates mean something only over a representative volume: SES measures them so,
// and the reputation guard waits for REPUTATION_MIN_SAMPLE recipients before it acts. /metrics
// exports the recipients of the window beside the rates, and the rate alerts wait for that volume:
// one bounce among a new gateway's first few messages would otherwise read as 20 % and keep a
// warning firing for the whole window.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sample(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

describe('reputation volume', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw.stop();
  });
  const scrape = async () => (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();

  it('exports the recipients sent over the reputation window, the denominator of the rates', async () => {
    const fresh = await scrape();
    expect(sample(fresh, 'ses_relay_reputation_recipients')).toBe(0);
    expect(sample(fresh, 'ses_relay_bounce_rate')).toBeUndefined();

    const sent = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['a@example.net', 'b@example.net'],
      message: simpleMessage(),
    });
    expect(sent.data?.code).toBe(250);
    const text = await waitFor(
      async () => {
        const now = await scrape();
        return sample(now, 'ses_relay_reputation_recipients') === 2 ? now : undefined;
      },
      { what: 'the two recipients to count in the window' },
    );
    expect(sample(text, 'ses_relay_bounce_rate')).toBe(0);
  });

  it('fires the rate alerts only from the volume the guard acts on (REPUTATION_MIN_SAMPLE)', () => {
    const rules = (
      parse(fs.readFileSync(path.join(ROOT, 'docker/prometheus/alerts.yml'), 'utf8')) as {
        groups: { rules: { alert: string; expr: string }[] }[];
      }
    ).groups.flatMap((group) => group.rules);
    const rateRules = rules.filter((rule) => /ses_relay_(bounce|complaint)_rate\b/.test(rule.expr));
    expect(rateRules.map((rule) => rule.alert).sort()).toEqual([
      'SesRelayBounceRateHigh',
      'SesRelayComplaintRateHigh',
    ]);
    const minSample = parseConfig({}).REPUTATION_MIN_SAMPLE;
    for (const rule of rateRules) {
      const expr = rule.expr.replace(/\s+/g, ' ').trim();
      const volume = / and on\(\) max\(ses_relay_reputation_recipients\) >= (\d+)$/.exec(expr);
      expect(volume?.[1], rule.alert).toBe(String(minSample));
    }
  });
});
