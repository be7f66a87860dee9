// Who may use /admin: a bearer token (ADMIN_TOKEN) or basic auth (ADMIN_USER/ADMIN_PASSWORD). The
// checks compare SHA-256 digests in constant time (http/authorization.ts, shared with /metrics).
import { digestMatches, parseAuthorization, secretDigest } from '../http/authorization.js';

export interface AdminAuthOptions {
  token?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
}

export interface AdminAuthPlan {
  bearer: boolean;
  basic: boolean;
  /** False when neither method is configured: /admin then answers 404. */
  enabled: boolean;
  /** Something start-up should log, if anything. */
  warning: string | undefined;
}

const present = (value: string | undefined): value is string => value !== undefined && value !== '';

export function planAuth(options: AdminAuthOptions): AdminAuthPlan {
  const bearer = present(options.token);
  const basic = present(options.user) && present(options.password);
  const halfBasic = present(options.user) !== present(options.password);
  const enabled = bearer || basic;
  let warning: string | undefined;
  if (!enabled) {
    warning = halfBasic
      ? 'admin.disabled: ADMIN_USER and ADMIN_PASSWORD must both be set (or ADMIN_TOKEN); /admin answers 404'
      : 'admin.disabled: neither ADMIN_TOKEN nor ADMIN_USER/ADMIN_PASSWORD is set; /admin answers 404';
  } else if (halfBasic) {
    warning =
      'admin.basic_auth_off: only one of ADMIN_USER and ADMIN_PASSWORD is set; /admin takes the token only';
  }
  return { bearer, basic, enabled, warning };
}

/** `user:password` from a Basic credential (RFC 7617: the user id holds no colon). */
export function decodeBasic(credentials: string): { user: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(credentials)) return undefined;
  const text = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon === -1 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The principal a request authenticated as: 'token', or the basic-auth user name. */
export type AdminPrincipal = string;

/**
 * Returns a check of an Authorization header against the configured credentials: the principal
 * (for the audit log) when they match, undefined when not.
 */
export function createCredentialCheck(
  options: AdminAuthOptions,
): (header: string | undefined) => AdminPrincipal | undefined {
  const plan = planAuth(options);
  const token = plan.bearer ? secretDigest(options.token!) : undefined;
  const user = plan.basic ? secretDigest(options.user!) : undefined;
  const password = plan.basic ? secretDigest(options.password!) : undefined;
  return (header) => {
    const parsed = parseAuthorization(header);
    if (!parsed) return undefined;
    if (parsed.scheme === 'bearer' && token)
      return digestMatches(parsed.credentials, token) ? 'token' : undefined;
    if (parsed.scheme === 'basic' && user && password) {
      const given = decodeBasic(parsed.credentials) ?? { user: '', password: '' };
      // Both compared every time: which half was wrong must not show in the timing either.
      const userOk = digestMatches(given.user, user);
      const passwordOk = digestMatches(given.password, password);
      return userOk && passwordOk ? options.user : undefined;
    }
    return undefined;
  };
}

/** The challenge a 401 carries: Basic only when basic auth is configured, so browsers prompt. */
export function challengeFor(plan: AdminAuthPlan): string {
  return plan.basic ? 'Basic realm="ses-relay"' : 'Bearer realm="ses-relay"';
}
