// The SMTP listener: smtp-server configured for a submission relay in front of SES, with policy
// answered at the earliest step (connect, MAIL, RCPT, end of DATA) and a draining shutdown.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { smtpError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { checkEnvelopeAddress } from './address.js';
import type { createIntake } from './intake.js';
import { createNetworkPolicy, plainIp, senderAllowed } from './policy.js';
import type { RecipientVerdict } from './recipient-policy.js';

export interface SmtpListener {
  start(): Promise<AddressInfo>;
  /** New sessions get 421; transactions in progress get up to `timeoutMs` to finish. */
  stop(timeoutMs: number): Promise<void>;
  /** Sessions inside a mail transaction right now. */
  readonly busySessions: number;
}

export interface ListenerOptions {
  config: Config;
  logger: Logger;
  handleData: ReturnType<typeof createIntake>;
  metrics: Metrics;
  /** The suppression check; 'drop' accepts the recipient but leaves it out of the envelope. */
  checkRecipient?(address: string, sessionId: string): Promise<RecipientVerdict>;
}

type Callback = (err?: Error | null) => void;

/** After open transactions have finished, idle sessions get 421 and are closed after this grace. */
const IDLE_CLOSE_GRACE_MS = 1000;
/** How often stop() looks whether open transactions have finished. */
const DRAIN_POLL_MS = 25;

function addressError(address: string, reason: 'non-ascii-local-part' | 'invalid') {
  // Replies stay ASCII: a non-ASCII address is not echoed back.
  return reason === 'non-ascii-local-part'
    ? smtpError('SMTP_NON_ASCII_LOCAL_PART', 'Non-ASCII local parts are not supported (SES has no SMTPUTF8)')
    : smtpError(
        'SMTP_BAD_ADDRESS',
        `<${address.replace(/[^\x20-\x7e]/g, '?')}>: not a valid mailbox address`,
      );
}

export function createSmtpListener(options: ListenerOptions): SmtpListener {
  const { config, logger, metrics } = options;
  const refuse = (reason: string) => metrics.messagesRefused.inc({ reason });
  const network = createNetworkPolicy(config.SMTP_ALLOWED_NETWORKS);
  let draining = false;
  /** Sessions inside a mail transaction (MAIL given, DATA not yet answered): shutdown waits for these. */
  const busy = new Set<string>();
  /** Recipients accepted at RCPT but dropped as suppressed (SUPPRESSION_ACTION=drop), per session. */
  const dropped = new Map<string, Set<string>>();

  const server = new SMTPServer({
    name: config.SMTP_NAME,
    banner: 'ses-relay ESMTP',
    size: config.SMTP_MAX_MESSAGE_BYTES,
    // SES has no SMTPUTF8; offering it would invite addresses SES cannot take.
    hideSMTPUTF8: true,
    hideSTARTTLS: true,
    // Our replies carry their own enhanced codes (smtp-server's defaults, e.g. 553 → 5.1.3, do not fit).
    hideENHANCEDSTATUSCODES: true,
    hideDSN: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    // PTR lookups cost a DNS round trip per connection and the hostname decides nothing here.
    disableReverseLookup: true,
    socketTimeout: config.SMTP_SOCKET_TIMEOUT,
    // stop() first waits for transactions in progress; idle sessions then get this long to leave.
    closeTimeout: IDLE_CLOSE_GRACE_MS,
    logger: false,

    onConnect(session: SMTPServerSession, callback: Callback) {
      if (draining) {
        callback(smtpError('SMTP_SHUTTING_DOWN', `${config.SMTP_NAME} shutting down, try again later`));
        return;
      }
      metrics.smtpConnections.inc();
      const ip = plainIp(session.remoteAddress);
      if (!network.allows(ip)) {
        refuse('network');
        logger.warn({ sid: session.id, client: ip }, 'smtp.refused.network');
        callback(smtpError('SMTP_CLIENT_NOT_ALLOWED', `Client host [${ip}] is not allowed to relay`));
        return;
      }
      callback();
    },

    onClose(session: SMTPServerSession) {
      busy.delete(session.id);
      dropped.delete(session.id);
    },

    onMailFrom(address, session, callback: Callback) {
      const sender = address.address;
      if (sender !== '') {
        const checked = checkEnvelopeAddress(sender);
        if (!checked.ok) {
          refuse('address');
          return callback(addressError(sender, checked.reason));
        }
        address.address = checked.address;
      }
      if (!senderAllowed(config.SMTP_ALLOWED_SENDERS, address.address)) {
        logger.info({ sid: session.id, from: sender }, 'smtp.refused.sender');
        refuse('sender');
        return callback(smtpError('SMTP_SENDER_NOT_ALLOWED', `<${sender}>: sender address not allowed`));
      }
      busy.add(session.id);
      dropped.delete(session.id);
      callback();
    },

    onRcptTo(address, session, callback: Callback) {
      if (session.envelope.rcptTo.length >= config.SMTP_MAX_RECIPIENTS) {
        refuse('recipients');
        return callback(
          smtpError(
            'SMTP_TOO_MANY_RECIPIENTS',
            `Too many recipients (at most ${config.SMTP_MAX_RECIPIENTS})`,
          ),
        );
      }
      const checked = checkEnvelopeAddress(address.address);
      if (!checked.ok) {
        refuse('address');
        return callback(addressError(address.address, checked.reason));
      }
      address.address = checked.address;
      if (!options.checkRecipient) return callback();
      options.checkRecipient(checked.address, session.id).then(
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

    onData(stream, session, callback: (err: Error | null, message?: string) => void) {
      options.handleData(stream, session, dropped.get(session.id)).then(
        (reply) => {
          busy.delete(session.id);
          callback(null, reply);
        },
        (err: Error) => {
          busy.delete(session.id);
          // Whatever happened, the stream must be drained or the session hangs.
          stream.resume();
          callback(err);
        },
      );
    },
  });

  server.on('error', (err) => logger.error({ err: err.message }, 'smtp.server_error'));

  return {
    get busySessions() {
      return busy.size;
    },
    start() {
      return new Promise((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(config.SMTP_PORT, config.SMTP_HOST, () => {
          server.server.off('error', reject);
          resolve(server.server.address() as AddressInfo);
        });
      });
    },
    async stop(timeoutMs) {
      draining = true;
      const deadline = Date.now() + timeoutMs;
      while (busy.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      }
      if (busy.size > 0) logger.warn({ open: busy.size }, 'smtp.shutdown_timeout');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
