// A bounded HTTPS GET for the two URLs an SNS message makes us call (signing certificate,
// SubscribeURL): https only, no redirects (a redirect could leave the checked host), a deadline that
// covers the body too, and a size cap. SNS waits 15 s for our answer, so every call must end sooner.
// Through the egress proxy when one is configured (shared/egress-proxy.ts), with a CONNECT tunnel.
import { fetchFor } from '../shared/egress-fetch.js';
import { currentEgressProxy, type EgressProxy } from '../shared/egress-proxy.js';

export interface HttpsGetOptions {
  timeoutMs: number;
  maxBytes: number;
  /** For tests: Node's global fetch, or a GET through the egress proxy, by default. */
  fetchImpl?: typeof fetch;
  /** The process's egress proxy by default. */
  egress?: EgressProxy;
}

export interface HttpsGetResult {
  status: number;
  body: string;
}

export async function httpsGet(url: URL, options: HttpsGetOptions): Promise<HttpsGetResult> {
  if (url.protocol !== 'https:') throw new Error(`refusing to fetch ${url.protocol} URL`);
  const fetchImpl = options.fetchImpl ?? fetchFor(url, options.egress ?? currentEgressProxy());
  const signal = AbortSignal.timeout(options.timeoutMs);
  const response = await fetchImpl(url, { redirect: 'error', signal });
  const body = await readCapped(response, options.maxBytes);
  return { status: response.status, body };
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`response is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
