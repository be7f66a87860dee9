import { describe, expect, it } from 'vitest';
import { httpsGet } from '../../src/webhook/https-get.js';

const url = new URL('https://sns.us-east-1.amazonaws.com/x.pem');

describe('bounded HTTPS GET', () => {
  it('refuses anything but https before calling out', async () => {
    let called = false;
    const fetchImpl: typeof fetch = () => {
      called = true;
      return Promise.resolve(new Response('x'));
    };
    await expect(
      httpsGet(new URL('http://sns.us-east-1.amazonaws.com/x.pem'), {
        timeoutMs: 100,
        maxBytes: 10,
        fetchImpl,
      }),
    ).rejects.toThrow(/http:/);
    expect(called).toBe(false);
  });

  it('never follows redirects and gives up at the deadline', async () => {
    let init: RequestInit | undefined;
    const hanging: typeof fetch = (_input, options) => {
      init = options;
      return new Promise((_resolve, reject) => {
        options?.signal?.addEventListener('abort', () => reject(options.signal?.reason as Error));
      });
    };
    const started = Date.now();
    await expect(httpsGet(url, { timeoutMs: 50, maxBytes: 10, fetchImpl: hanging })).rejects.toThrow(
      /timeout|aborted/i,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(init?.redirect).toBe('error');
  });

  it('returns status and body, and refuses a body over the cap', async () => {
    const small: typeof fetch = () => Promise.resolve(new Response('hello', { status: 404 }));
    await expect(httpsGet(url, { timeoutMs: 1000, maxBytes: 10, fetchImpl: small })).resolves.toEqual({
      status: 404,
      body: 'hello',
    });
    const big: typeof fetch = () => Promise.resolve(new Response('x'.repeat(11)));
    await expect(httpsGet(url, { timeoutMs: 1000, maxBytes: 10, fetchImpl: big })).rejects.toThrow(
      /larger than 10/,
    );
  });
});
