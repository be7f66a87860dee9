// The guard against cross-site request forgery on /admin. Browsers send cached basic credentials
// with a hostile page's requests too, so every state change (the admin API's and Bull Board's) must
// show that it came from this origin. Sec-Fetch-Site alone is not enough: browsers send it only to
// secure origins, and the admin is usually served over plain HTTP on a private network. Origin is
// sent on every cross-origin POST, PUT, PATCH and DELETE, secure or not.
import type express from 'express';
import { AdminError } from './errors.js';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

type Headers = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.split(',')[0]?.trim().toLowerCase() || undefined;
}

/** `host[:port]` as URL.host spells it for this scheme (default port left out), or undefined. */
function hostOf(scheme: string, host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  try {
    return new URL(`${scheme}//${host}`).host;
  } catch {
    return undefined;
  }
}

/**
 * Why a request may not change state, or undefined when it may. Refused: what the browser itself
 * marks as cross-site or same-site; `Origin: null` (sandboxed frames, data: URLs, some redirects);
 * an Origin whose host is neither the request's Host nor X-Forwarded-Host (a proxy that rewrites
 * Host passes the original there; a page cannot set either header on a cross-site request). No
 * Origin at all is a client outside a browser (curl, scripts), so it passes; the form encodings a
 * browser could still send without one are refused by the API's body rules (body-types.ts).
 */
export function crossSiteRefusal(method: string, headers: Headers): string | undefined {
  if (SAFE_METHODS.has(method)) return undefined;
  const site = first(headers['sec-fetch-site']);
  if (site === 'cross-site' || site === 'same-site') return 'Cross-site requests are refused';
  const origin = first(headers.origin);
  if (origin === undefined) return undefined;
  if (origin === 'null') return 'Requests with Origin: null are refused';
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return 'Origin is not a URL';
  }
  const hosts = [first(headers.host), first(headers['x-forwarded-host'])].map((host) =>
    hostOf(parsed.protocol, host),
  );
  return hosts.includes(parsed.host) ? undefined : 'Origin does not match the Host this request was sent to';
}

export function refuseCrossSite(
  req: express.Request,
  _res: express.Response,
  next: express.NextFunction,
): void {
  const refusal = crossSiteRefusal(req.method, req.headers);
  next(refusal === undefined ? undefined : new AdminError('ADMIN_CROSS_SITE', refusal));
}
