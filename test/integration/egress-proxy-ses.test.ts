import net from 'node:net';
import { GetAccountCommand } from '@aws-sdk/client-sesv2';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifySesError, sesErrorFacts } from '../../src/ses/classify.js';
import { createSesClient } from '../../src/ses/client.js';
import { egressProxyOf, type ProxyVariables } from '../../src/shared/egress-proxy.js';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startFakeSqs } from '../helpers/fake-sqs.js';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.js';
import { startGateway, TEST_CREDENTIALS } from '../helpers/gateway.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const CREDENTIALS = 'relay:s3cret';

describe('SES and SQS calls through the egress proxy', () => {
  let proxy: ForwardProxy;
  beforeAll(async () => {
    proxy = await startForwardProxy();
  });
  afterAll(() => proxy.stop());
  beforeEach(() => {
    proxy.requests.length = 0;
    proxy.credentials = CREDENTIALS;
  });

  it('sends mail accepted over SMTP to SES through HTTP_PROXY, with the credentials in its URL', async () => {
    const gw = await startGateway({ HTTP_PROXY: proxy.url(CREDENTIALS) });
    try {
      await queueMessage(gw.smtpPort, { to: ['user@example.net'] });
      await waitFor(() => gw.ses.sends.length === 1);
      const sends = proxy
        .passed('POST')
        .filter((r) => r.target.startsWith(`${gw.ses.url}/v2/email/outbound-emails`));
      expect(sends).toHaveLength(1);
      expect(JSON.stringify(gw.logs)).not.toContain('s3cret');
    } finally {
      await gw.stop();
    }
  });

  it('connects directly to what NO_PROXY names (SES here) and proxies the rest (SQS)', async () => {
    const [ses, sqs] = await Promise.all([startFakeSes(), startFakeSqs()]);
    const gw = await startGateway(
      {
        HTTP_PROXY: proxy.url(CREDENTIALS),
        NO_PROXY: `example.net, ${new URL(ses.url).host}`,
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.url,
      },
      { ses },
    );
    try {
      await queueMessage(gw.smtpPort);
      await waitFor(() => ses.sends.length === 1);
      await waitFor(() => proxy.passed('POST').some((r) => r.target.startsWith(sqs.url)));
      expect(proxy.requests.filter((r) => r.target.startsWith(ses.url))).toEqual([]);
    } finally {
      await gw.stop();
      await Promise.all([ses.stop(), sqs.stop()]);
    }
  });

  it('retries (never fails) mail while the proxy refuses it, and delivers once it lets it pass', async () => {
    const gw = await startGateway({ HTTP_PROXY: proxy.url() });
    const queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    try {
      const queueId = await queueMessage(gw.smtpPort);
      const retries = await waitFor(() => {
        const found = gw.logs.filter((l) => l.msg === 'ses.retry' && l.queueId === queueId);
        return found.length >= 2 ? found : undefined;
      });
      expect(retries[0]).toMatchObject({
        errorClass: 'transient',
        error: expect.stringContaining('(HTTP 407)'),
      });
      expect(await queue.getJobState(queueId)).not.toBe('failed');
      expect(gw.ses.sends).toHaveLength(0);
      proxy.credentials = undefined;
      await waitFor(async () => (await queue.getJobState(queueId)) === 'completed');
      expect(gw.ses.sends).toHaveLength(1);
    } finally {
      await queue.close();
      await gw.stop();
    }
  });
});

describe('an egress proxy that refuses SES calls', () => {
  let proxy: ForwardProxy;
  let ses: FakeSes;
  beforeAll(async () => {
    [proxy, ses] = await Promise.all([startForwardProxy(), startFakeSes()]);
    proxy.credentials = CREDENTIALS;
  });
  afterAll(async () => {
    await Promise.all([proxy.stop(), ses.stop()]);
  });

  const getAccount = (variables: ProxyVariables, endpoint?: string) =>
    createSesClient({
      region: 'us-east-1',
      endpoint,
      requestTimeoutMs: 5000,
      maxSockets: 4,
      credentials: TEST_CREDENTIALS,
      egress: egressProxyOf(variables),
    })
      .send(new GetAccountCommand({}))
      .then(
        () => expect.fail('the call should have failed'),
        (err: unknown) => err as Error,
      );

  it('classifies a 407 answer to an http:// endpoint as transient', async () => {
    const err = await getAccount({ HTTP_PROXY: proxy.url() }, ses.url);
    expect(sesErrorFacts(err).httpStatus).toBe(407);
    expect(classifySesError(sesErrorFacts(err))).toBe('transient');
  });

  it('fails a refused CONNECT with an error naming the proxy (not its credentials), transient', async () => {
    const err = await getAccount({ HTTPS_PROXY: proxy.url('relay:wrong') });
    expect(err.message).toBe(
      `egress proxy 127.0.0.1:${proxy.port} refused the tunnel to email.us-east-1.amazonaws.com:443: 407 Proxy Authentication Required`,
    );
    expect(classifySesError(sesErrorFacts(err))).toBe('transient');
    expect(proxy.requests.at(-1)).toMatchObject({
      method: 'CONNECT',
      target: 'email.us-east-1.amazonaws.com:443',
    });
  });

  it('fails with a transient network error naming the proxy when nothing listens there', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const err = await getAccount({ HTTPS_PROXY: `http://relay:s3cret@127.0.0.1:${port}` });
    expect(err.message).toContain(`egress proxy 127.0.0.1:${port}: connect ECONNREFUSED`);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(err.message).not.toContain('s3cret');
    expect(classifySesError(sesErrorFacts(err))).toBe('transient');
  });
});
