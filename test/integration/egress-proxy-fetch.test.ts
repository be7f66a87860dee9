import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { fetchFor } from '../../src/shared/egress-fetch.js';
import { DIRECT, egressProxyOf, useEgressProxy, type EgressProxy } from '../../src/shared/egress-proxy.js';
import { httpsGet } from '../../src/webhook/https-get.js';
import { defaultCertificateFetcher } from '../../src/webhook/sns-verify.js';
import { defaultSubscriptionConfirmer } from '../../src/webhook/webhook.js';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.js';
import { generateCertificate, removeTempDirs, type TestCertificate } from '../helpers/tls-cert.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const CREDENTIALS = 'relay:s3cret';

/** The real egress proxy, its agents also trusting the test certificate of the local HTTPS server. */
const trusting = (egress: EgressProxy, cert: TestCertificate): EgressProxy => ({
  proxyFor: (target) => egress.proxyFor(target),
  agent: (protocol, options) => egress.agent(protocol, { ...options, ca: cert.cert }),
});

describe('SNS certificate and SubscribeURL fetches through the egress proxy', () => {
  let proxy: ForwardProxy;
  let cert: TestCertificate;
  let server: https.Server;
  let base: string;
  beforeAll(async () => {
    [proxy, cert] = await Promise.all([startForwardProxy(), generateCertificate()]);
    server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      if (req.url === '/moved') res.writeHead(302, { location: '/cert.pem' }).end();
      else res.end(PEM);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    useEgressProxy(DIRECT);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await proxy.stop();
    removeTempDirs();
  });
  beforeEach(() => {
    proxy.requests.length = 0;
    proxy.credentials = CREDENTIALS;
  });

  const get = (path: string, proxyUrl: string) =>
    httpsGet(new URL(path, base), {
      timeoutMs: 5000,
      maxBytes: 10_000,
      egress: trusting(egressProxyOf({ HTTPS_PROXY: proxyUrl }), cert),
    });

  it('tunnels the GET with CONNECT, sending the credentials of the proxy URL', async () => {
    await expect(get('/cert.pem', proxy.url(CREDENTIALS))).resolves.toEqual({ status: 200, body: PEM });
    expect(proxy.passed('CONNECT').map((r) => r.target)).toEqual([new URL(base).host]);
  });

  it('fails, rather than answering 407, when the proxy refuses the tunnel', async () => {
    await expect(get('/cert.pem', proxy.url())).rejects.toThrow(
      `egress proxy 127.0.0.1:${proxy.port} refused the tunnel to localhost:${new URL(base).port}: 407`,
    );
  });

  it('still refuses to follow a redirect', async () => {
    await expect(get('/moved', proxy.url(CREDENTIALS))).rejects.toThrow(/redirect/);
  });

  it('uses Node’s own fetch for a host NO_PROXY names', () => {
    const egress = egressProxyOf({ HTTPS_PROXY: proxy.url(), NO_PROXY: '.amazonaws.com' });
    expect(fetchFor(new URL('https://sns.us-east-1.amazonaws.com/x.pem'), egress)).toBe(fetch);
    expect(fetchFor(new URL('https://sns.us-east-1.amazonaws.com/x.pem'), DIRECT)).toBe(fetch);
    expect(fetchFor(new URL('https://sns.example.org/x.pem'), egress)).not.toBe(fetch);
  });

  it('goes through the proxy of the gateway’s configuration by default', async () => {
    createApp(parseConfig({ HTTPS_PROXY: proxy.url(CREDENTIALS) }));
    // The process's agents do not trust the test certificate: the tunnel is what this checks.
    await expect(defaultCertificateFetcher(new URL('/cert.pem', base))).rejects.toThrow(/certificate/);
    await expect(defaultSubscriptionConfirmer(new URL('/confirm', base))).rejects.toThrow(/certificate/);
    expect(proxy.passed('CONNECT').map((r) => r.target)).toEqual([new URL(base).host, new URL(base).host]);
  });
});
