// Who an admin request authenticated as ('token' or the basic-auth user), kept on the response's
// locals by the credential check so that handlers can name the operator in the audit log.
import type express from 'express';

const KEY = 'adminPrincipal';

export function setPrincipal(res: express.Response, principal: string): void {
  (res.locals as Record<string, unknown>)[KEY] = principal;
}

export function principalOf(res: express.Response): string {
  const value = (res.locals as Record<string, unknown>)[KEY];
  return typeof value === 'string' ? value : 'unknown';
}
