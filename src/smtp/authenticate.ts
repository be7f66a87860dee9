// SMTP AUTH for the listener: PLAIN and LOGIN against the users file, behind the shared failure
// throttle. Every password check first takes one of the client's attempts in Redis, so parallel
// connections cannot check more guesses than SMTP_AUTH_MAX_FAILURES between them.
import { createHash } from 'node:crypto';
import type { SMTPServerAuthentication, SMTPServerSession } from 'smtp-server';
import type { AuthThrottle, SmtpUser, UserDirectory } from '../auth/index.js';
import { smtpError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { plainIp } from './policy.js';

export interface AuthenticateDeps {
  users?: UserDirectory | undefined;
  throttle?: AuthThrottle | undefined;
  logger: Logger;
  /** Counts a refusal in the metrics. */
  refuse: (reason: string) => void;
}

/** A short digest of a login name that names no user: never the name itself, which may be a secret. */
function nameDigest(username: string): string {
  return createHash('sha256').update(username).digest('hex').slice(0, 12);
}

export function createAuthenticate(deps: AuthenticateDeps) {
  const { logger, refuse } = deps;

  /** Takes one attempt for the client; throws the 454 reply when it may not try now. */
  async function reserve(ip: string, sid: string): Promise<string | undefined> {
    if (!deps.throttle) return undefined;
    const decision = await deps.throttle.reserve(ip);
    if (!decision.blocked) return decision.attempt;
    refuse('auth');
    logger.warn({ sid, client: ip, reason: decision.reason }, 'smtp.auth_throttled');
    switch (decision.reason) {
      case 'unavailable':
        throw smtpError('SMTP_AUTH_UNAVAILABLE', 'Authentication temporarily unavailable, try again later');
      case 'busy':
        throw smtpError(
          'SMTP_AUTH_THROTTLED',
          'Too many logins in progress from your address, try again later',
        );
      case 'blocked':
        throw smtpError(
          'SMTP_AUTH_THROTTLED',
          `Too many failed logins, try again in ${Math.ceil(decision.retryAfterMs / 1000)} s`,
        );
    }
  }

  return async function authenticate(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
  ): Promise<SmtpUser> {
    const ip = plainIp(session.remoteAddress);
    const username = auth.username ?? '';
    if (!deps.users || (auth.method !== 'PLAIN' && auth.method !== 'LOGIN')) {
      throw smtpError('SMTP_AUTH_FAILED', 'Authentication failed');
    }
    // RFC 4616's authzid asks to act as another identity. No user may act as another here, so one
    // that names someone else is refused rather than ignored (the session would not be what the
    // client asked for). smtp-server puts the authzid into `username` when the authcid is empty.
    if (auth.authzid && auth.authzid !== username) {
      refuse('auth');
      logger.warn({ sid: session.id, client: ip, reason: 'authzid' }, 'smtp.auth_failed');
      throw smtpError('SMTP_AUTH_FAILED', 'Authorization identity must be empty or the username');
    }
    const attempt = await reserve(ip, session.id);
    let user: SmtpUser | undefined;
    try {
      user = await deps.users.authenticate(username, auth.password ?? '');
    } catch (err) {
      if (attempt !== undefined) void deps.throttle?.release(ip, attempt);
      throw err;
    }
    if (!user) {
      refuse('auth');
      await deps.throttle?.recordFailure(ip, username, attempt).catch(() => undefined);
      // A name that is no configured user may be a password typed into the wrong field (or swapped
      // by a misconfigured client): only its digest is logged, enough to tell attempts apart.
      const who = deps.users.get(username) ? { user: username } : { unknownUser: nameDigest(username) };
      logger.warn({ sid: session.id, client: ip, ...who }, 'smtp.auth_failed');
      throw smtpError('SMTP_AUTH_FAILED', 'Authentication credentials invalid');
    }
    void deps.throttle?.recordSuccess(ip, username, attempt).catch(() => undefined);
    logger.info({ sid: session.id, client: ip, user: user.username, method: auth.method }, 'smtp.auth_ok');
    return user;
  };
}
