import { describe, expect, it } from 'vitest';
import { evaluateAccount, explainSesFailure } from '../../src/doctor/checks/ses-account.js';
import { formatReport } from '../../src/doctor/index.js';

const account = {
  maxSendRate: 14,
  max24HourSend: 50_000,
  sentLast24Hours: 10,
  sendingEnabled: true,
  productionAccess: true,
  enforcementStatus: 'HEALTHY',
  readAt: 0,
};

describe('doctor and SES_ENDPOINT', () => {
  it('names the endpoint, not the region, when SES_ENDPOINT is set', () => {
    expect(evaluateAccount(account, 'us-east-1', 'http://127.0.0.1:8005')[0]?.message).toBe(
      'SES at http://127.0.0.1:8005 (SES_ENDPOINT): max 14 recipients/s, 10/50000 sent in 24 h',
    );
  });

  it("keeps one line per finding when the SDK's message spans several (a proxy's HTML page)", () => {
    const badGateway = Object.assign(
      new SyntaxError(`Unexpected token '<', "<html>\n<bo"... is not valid JSON\n  Deserialization error`),
      { $metadata: { httpStatusCode: 502 } },
    );
    const result = explainSesFailure(badGateway, 'us-east-1', 'http://proxy.internal');
    expect(result.message).toBe(
      `SES at http://proxy.internal (SES_ENDPOINT) did not answer GetAccount: SyntaxError: Unexpected token '<', "<html> (HTTP 502)`,
    );
    const text = formatReport({
      results: [result],
      counts: { ok: 0, warn: 0, fail: 1, skip: 0 },
      healthy: false,
    });
    expect(text.split('\n')).toHaveLength(4);
  });
});
