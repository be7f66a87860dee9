// What the listener decides at each step of a session, as smtp-server callbacks: connect (network,
// connection limits, shutdown), AUTH (authenticate.ts), MAIL (TLS and AUTH requirements, the user as
// the users file has it now, sender policy), RCPT (limits, address checks, suppression) and DATA
// (intake). Every refusal carries its own code and enhanced status, answered at the earliest step
// that can know.
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerOptions,
  SMTPServerSession,
} from 'smtp-server';
import { clientKey, type AuthThrottle, type SmtpUser, type UserDirectory } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { smtpError, type RelayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { isMailboxSyntax } from '../mail/mailbox.js';
import { checkEnvelopeAddress, type AddressCheck } from './address.js';
import { createAuthenticate } from './authenticate.js';
import type { ConnectionLimits } from './connection-limits.js';
import type { createIntake } from './intake.js';
import { createNetworkPolicy, plainIp, senderAllowed } from './policy.js';
import type { RecipientVerdict } from './recipient-policy.js';

type Callback = (err?: Error | null) => void;

export interface SessionDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  handleData: ReturnType<typeof createIntake>;
  checkRecipient?(address: string, sessionId: string): Promise<RecipientVerdict>;
  /** Why Redis takes no new mail now, if so: memory at its high-water mark, an evicting policy (queue-room.ts). */
  queueRefusal?(): RelayError | undefined;
  users?: UserDirectory | undefined;
  throttle?: AuthThrottle | undefined;
  limits: ConnectionLimits;
  isDraining(): boolean;
  /** Commands this listener never offers (e.g. STARTTLS without a certificate). */
  disabledCommands: string[];
}

export interface SessionState {
  /**
   * Sessions that gave MAIL, by id. Those still inside a transaction (their envelope has a sender:
   * RSET, EHLO and the end of DATA clear it) are the ones shutdown waits for.
   */
  busy: Map<string, SMTPServerSession>;
  /** When each open session connected (for SMTP_MAX_SESSION_TIME). */
  openedAt: Map<string, number>;
  /**
   * Sessions whose message has fully arrived and is being written to Redis. The session time limit
   * waits for them: a 421 then would leave the client resending a message that was queued anyway.
   */
  storing: Set<string>;
}

/**
 * MAIL parameters of the extensions EHLO offers (SIZE, 8BITMIME's BODY) and AUTH= (RFC 4954), which
 * smtp-server checks itself. RCPT takes none. Anything else (SMTPUTF8, DSN's RET/ENVID/NOTIFY/ORCPT)
 * would be silently ignored, so it is refused as RFC 5321 §4.1.4 asks.
 */
const MAIL_PARAMETERS = new Set(['SIZE', 'BODY', 'AUTH']);
const RCPT_PARAMETERS = new Set<string>();

function unofferedParameter(address: SMTPServerAddress, allowed: Set<string>): string | undefined {
  const args: unknown = address.args;
  if (!args || typeof args !== 'object') return undefined;
  return Object.keys(args).find((key) => !allowed.has(key.toUpperCase()));
}

function unofferedError(command: string, parameter: string): Error {
  return smtpError(
    'SMTP_PARAMETER_NOT_SUPPORTED',
    `${command} parameter ${printable(parameter)} not supported`,
  );
}

/**
 * A 503 (bad sequence of commands), as smtp-server answers its own sequence errors: a protocol reply,
 * not a refusal of the client or its mail, so it is no code of the error catalog.
 */
function outOfSequence(text: string): Error {
  return Object.assign(new Error(`5.5.1 ${text}`), { responseCode: 503 });
}

/** Replies stay printable ASCII: client-supplied text is never echoed raw. */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 256);
}

function addressError(
  address: string,
  reason: 'non-ascii-local-part' | 'invalid',
  role: 'sender' | 'recipient',
): RelayError {
  if (reason === 'non-ascii-local-part') {
    return smtpError(
      'SMTP_NON_ASCII_LOCAL_PART',
      'Non-ASCII local parts are not supported (SES has no SMTPUTF8)',
    );
  }
  // RFC 3463: X.1.7 is a bad sender's address, X.1.3 a bad destination address.
  return smtpError(
    role === 'sender' ? 'SMTP_BAD_SENDER' : 'SMTP_BAD_ADDRESS',
    `<${printable(address)}>: not a valid mailbox address`,
  );
}

/** The listener's address checks, then RFC 5321 syntax (SES fails a whole call on one bad address). */
function checkAddress(address: string): AddressCheck {
  const checked = checkEnvelopeAddress(address);
  return checked.ok && !isMailboxSyntax(checked.address) ? { ok: false, reason: 'invalid' } : checked;
}

export function sessionUser(session: SMTPServerSession): SmtpUser | undefined {
  return session.user as SmtpUser | undefined;
}

export function createSessionHandlers(deps: SessionDeps, state: SessionState): Partial<SMTPServerOptions> {
  const { config, logger, metrics } = deps;
  const refuse = (reason: string) => metrics.messagesRefused.inc({ reason });
  const network = createNetworkPolicy(config.SMTP_ALLOWED_NETWORKS);
  /** Recipients accepted at RCPT but dropped as suppressed (SUPPRESSION_ACTION=drop), per session. */
  const dropped = new Map<string, Set<string>>();
  /** Sessions whose client address is inside SMTP_ALLOWED_NETWORKS: decided once, at connect. */
  const inNetwork = new Set<string>();
  /** Without a users file nobody can authenticate, so outsiders are refused at connect. */
  const authAvailable = deps.users !== undefined;
  /** AUTH is offered only on an encrypted session, unless SMTP_ALLOW_INSECURE_AUTH (loopback set-ups). */
  const commandsFor = (secure: boolean) =>
    secure || config.SMTP_ALLOW_INSECURE_AUTH ? deps.disabledCommands : [...deps.disabledCommands, 'AUTH'];
  const authenticate = createAuthenticate({ ...deps, refuse });

  return {
    onConnect(session: SMTPServerSession, callback: Callback) {
      if (deps.isDraining()) {
        return callback(
          smtpError('SMTP_SHUTTING_DOWN', `${config.SMTP_NAME} shutting down, try again later`),
        );
      }
      metrics.smtpConnections.inc();
      state.openedAt.set(session.id, Date.now());
      session.disabledCommands = commandsFor(session.secure);
      const ip = plainIp(session.remoteAddress);
      if (network.allows(ip)) inNetwork.add(session.id);
      else if (!authAvailable) {
        refuse('network');
        logger.warn({ sid: session.id, client: ip }, 'smtp.refused.network');
        return callback(smtpError('SMTP_CLIENT_NOT_ALLOWED', `Client host [${ip}] is not allowed to relay`));
      }
      // Counted like the login throttle: an IPv6 host owns a whole /64 and could rotate addresses.
      const limit = deps.limits.open(session.id, clientKey(ip));
      if (limit !== undefined) {
        refuse('connections');
        logger.warn({ sid: session.id, client: ip, limit }, 'smtp.refused.connections');
        return callback(
          smtpError(
            'SMTP_TOO_MANY_CONNECTIONS',
            limit === 'ip' ? 'Too many connections from your host' : 'Too many connections',
          ),
        );
      }
      callback();
    },

    onSecure(_socket: unknown, session: SMTPServerSession, callback: Callback) {
      session.disabledCommands = commandsFor(true);
      callback();
    },

    onClose(session: SMTPServerSession) {
      deps.limits.close(session.id);
      state.busy.delete(session.id);
      state.openedAt.delete(session.id);
      state.storing.delete(session.id);
      dropped.delete(session.id);
      inNetwork.delete(session.id);
    },

    onAuth(
      auth: SMTPServerAuthentication,
      session: SMTPServerSession,
      callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
    ) {
      // RFC 4954 §4: AUTH during a mail transaction MUST get 503. Taken, it would put the transaction
      // under a user whose allowedSenders never saw its sender (checked at MAIL, without a user).
      if (session.envelope.mailFrom) {
        return callback(outOfSequence('AUTH not permitted during a mail transaction'));
      }
      void authenticate(auth, session).then(
        (user) => callback(null, { user }),
        (err: Error) => callback(err),
      );
    },

    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback) {
      // An idle session (a pooled client) starts no new transaction once draining has begun: the
      // shutdown would wait for it, and it would be cut mid-way at SHUTDOWN_TIMEOUT. 421 closes it.
      if (deps.isDraining()) {
        return callback(
          smtpError('SMTP_SHUTTING_DOWN', `${config.SMTP_NAME} shutting down, try again later`),
        );
      }
      if (config.SMTP_REQUIRE_TLS && !session.secure) {
        refuse('tls');
        return callback(smtpError('SMTP_TLS_REQUIRED', 'Must issue a STARTTLS command first'));
      }
      const authenticated = sessionUser(session);
      // The users file may have changed since AUTH: each transaction takes the user as it is now.
      const user = authenticated && deps.users?.get(authenticated.username);
      if (authenticated && !user) {
        session.user = undefined;
        refuse('auth');
        logger.warn({ sid: session.id, user: authenticated.username }, 'smtp.refused.user_removed');
        return callback(
          smtpError('SMTP_AUTH_REVOKED', 'Authentication no longer valid (user removed), authenticate again'),
        );
      }
      if (user) session.user = user;
      if (!user && (config.SMTP_AUTH_REQUIRED || !inNetwork.has(session.id))) {
        refuse('auth');
        return callback(smtpError('SMTP_AUTH_REQUIRED', 'Authentication required'));
      }
      const unoffered = unofferedParameter(address, MAIL_PARAMETERS);
      if (unoffered !== undefined) {
        refuse('parameter');
        return callback(unofferedError('MAIL FROM', unoffered));
      }
      const sender = address.address;
      if (sender !== '') {
        const checked = checkAddress(sender);
        if (!checked.ok) {
          refuse('address');
          return callback(addressError(sender, checked.reason, 'sender'));
        }
        address.address = checked.address;
      }
      const userAllows =
        !user || user.allowedSenders.length === 0 || senderAllowed(user.allowedSenders, address.address);
      if (!senderAllowed(config.SMTP_ALLOWED_SENDERS, address.address) || !userAllows) {
        logger.info(
          { sid: session.id, from: printable(sender), user: user?.username },
          'smtp.refused.sender',
        );
        refuse('sender');
        return callback(
          smtpError('SMTP_SENDER_NOT_ALLOWED', `<${printable(sender)}>: sender address not allowed`),
        );
      }
      const queueRefusal = deps.queueRefusal?.();
      if (queueRefusal) {
        refuse(queueRefusal.code === 'QUEUE_FULL' ? 'queue_full' : 'queue');
        return callback(queueRefusal);
      }
      state.busy.set(session.id, session);
      dropped.delete(session.id);
      callback();
    },

    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback) {
      if (session.envelope.rcptTo.length >= config.SMTP_MAX_RECIPIENTS) {
        refuse('recipients');
        return callback(
          smtpError(
            'SMTP_TOO_MANY_RECIPIENTS',
            `Too many recipients (at most ${config.SMTP_MAX_RECIPIENTS})`,
          ),
        );
      }
      // A message with more recipients than the user may send in 24 hours could never be sent: the
      // worker would hold it until QUEUE_MAX_AGE. Dropped (suppressed) recipients are never sent.
      const dailyCap = sessionUser(session)?.dailyCap;
      const toSend = session.envelope.rcptTo.length - (dropped.get(session.id)?.size ?? 0);
      if (dailyCap !== undefined && toSend >= dailyCap) {
        refuse('recipients');
        return callback(
          smtpError(
            'SMTP_DAILY_CAP_RECIPIENTS',
            `Too many recipients for your daily cap of ${dailyCap}, send the rest in another message`,
          ),
        );
      }
      const unoffered = unofferedParameter(address, RCPT_PARAMETERS);
      if (unoffered !== undefined) {
        refuse('parameter');
        return callback(unofferedError('RCPT TO', unoffered));
      }
      const checked = checkAddress(address.address);
      if (!checked.ok) {
        refuse('address');
        return callback(addressError(address.address, checked.reason, 'recipient'));
      }
      address.address = checked.address;
      if (!deps.checkRecipient) return callback();
      deps.checkRecipient(checked.address, session.id).then(
        (verdict) => {
          if (verdict === 'drop') {
            const set = dropped.get(session.id) ?? new Set<string>();
            set.add(checked.address);
            dropped.set(session.id, set);
          }
          callback();
        },
        (err: Error) => callback(err),
      );
    },

    onData(
      stream: SMTPServerDataStream,
      session: SMTPServerSession,
      callback: (err: Error | null, message?: string) => void,
    ) {
      let answered = false;
      stream.once('end', () => {
        if (!answered) state.storing.add(session.id);
      });
      const answer = () => {
        answered = true;
        state.busy.delete(session.id);
        state.storing.delete(session.id);
      };
      deps.handleData(stream, session, dropped.get(session.id)).then(
        (reply) => {
          answer();
          callback(null, reply);
        },
        (err: Error) => {
          answer();
          // Whatever happened, the stream must be drained or the session hangs.
          stream.resume();
          callback(err);
        },
      );
    },
  };
}
