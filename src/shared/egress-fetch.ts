// The fetch a GET to `url` should use: Node's own fetch when the egress proxy lets it connect
// directly, else a GET through the proxy's agent (Node's fetch takes no http.Agent). The latter keeps
// the part of fetch's contract the bounded HTTPS GET relies on: status, a streamed body, an abort
// signal that covers the body too, and `redirect: 'error'`.
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { EgressProxy } from './egress-proxy.js';

export type GetFetch = (url: URL, init: { redirect: 'error'; signal: AbortSignal }) => Promise<Response>;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

export function fetchFor(url: URL, egress: EgressProxy): GetFetch {
  if (!egress.proxyFor(url)) return fetch;
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  return (target, init) =>
    new Promise((resolve, reject) => {
      const agent = egress.agent(protocol);
      const get = protocol === 'https:' ? https.get : http.get;
      const request = get(target, { agent, signal: init.signal }, (response) => {
        const status = response.statusCode ?? 0;
        try {
          if (REDIRECT_STATUSES.has(status)) throw new TypeError(`fetch failed: redirect (${status})`);
          const body = NULL_BODY_STATUSES.has(status) ? null : (Readable.toWeb(response) as ReadableStream);
          resolve(new Response(body, { status }));
        } catch (err) {
          response.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      request.once('error', reject);
    });
}
