// The SMTP listener: smtp-server configured for a submission relay in front of SES. One server on
// SMTP_PORT (plain, with STARTTLS when a certificate is configured), and one with implicit TLS on
// SMTP_TLS_PORT; either can sit behind a PROXY protocol reader (proxy-front.ts). Session decisions
// live in session-handlers.ts; this file owns sockets, TLS material and the draining shutdown.
import type net from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { AuthThrottle, UserDirectory } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { ERROR_CATALOG, type RelayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { coalesceSocketWrites } from '../shared/write-coalescing.js';
import {
  acceptTls,
  followCertificateStore,
  smtpServerTlsOptions,
  type CertificateStore,
} from '../tls/index.js';
import { answerAuthBeforeStartTls } from './auth-before-starttls.js';
import { backstopMaxClients, createConnectionLimits } from './connection-limits.js';
import type { createIntake } from './intake.js';
import type { RecipientVerdict } from './recipient-policy.js';
import { createNetworkPolicy } from './policy.js';
import { createProxyFront, type ProxyFront } from './proxy-front.js';
import { acceptBareEnvelopeAddresses } from './bare-envelope-address.js';
import { guardRefusedData } from './refused-data.js';
import { createServerErrorLogger } from './server-errors.js';
import { createSessionHandlers } from './session-handlers.js';

export interface SmtpListener {
  start(): Promise<{ smtp: net.AddressInfo; smtps?: net.AddressInfo }>;
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
  users?: UserDirectory | undefined;
  throttle?: AuthThrottle | undefined;
  tls?: CertificateStore | undefined;
  /** Why Redis takes no new mail now (queue-room.ts): new transactions are refused at MAIL FROM. */
  queueRefusal?(): RelayError | undefined;
}

/** After open transactions have finished, idle sessions get 421 and are closed after this grace. */
const IDLE_CLOSE_GRACE_MS = 1000;
/** How often stop() looks whether open transactions have finished. */
const DRAIN_POLL_MS = 25;
/** How often sessions are checked against SMTP_MAX_SESSION_TIME (the most a session overstays). */
const SESSION_SWEEP_MS = 1000;

interface LiveConnection {
  session?: { id: string };
  _socket?: net.Socket;
  send(code: number, message: string): void;
  close(): void;
}

export function createSmtpListener(options: ListenerOptions): SmtpListener {
  const { config, logger } = options;
  let draining = false;
  const state = {
    busy: new Map<string, SMTPServerSession>(),
    openedAt: new Map<string, number>(),
    storing: new Set<string>(),
  };
  /** Sessions inside a mail transaction; one that left it by RSET or EHLO no longer counts. */
  const openTransactions = (): number => {
    for (const [id, session] of state.busy) if (!session.envelope.mailFrom) state.busy.delete(id);
    return state.busy.size;
  };
  const limits = createConnectionLimits(config.SMTP_MAX_CONNECTIONS, config.SMTP_MAX_CONNECTIONS_PER_IP);
  const authEnabled = options.users !== undefined;
  const tls = options.tls;
  const disabledCommands = [...(authEnabled ? [] : ['AUTH']), ...(tls ? [] : ['STARTTLS'])];
  const handlers = createSessionHandlers(
    { ...options, limits, disabledCommands, isDraining: () => draining },
    state,
  );

  const base: SMTPServerOptions = {
    name: config.SMTP_NAME,
    // smtp-server writes "<name> ESMTP <banner>".
    banner: 'ses-relay',
    size: config.SMTP_MAX_MESSAGE_BYTES,
    // SES has no SMTPUTF8; offering it would invite addresses SES cannot take.
    hideSMTPUTF8: true,
    hideSTARTTLS: !tls,
    // Our replies carry their own enhanced codes (smtp-server's defaults, e.g. 553 → 5.1.3, do not fit).
    hideENHANCEDSTATUSCODES: true,
    hideDSN: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands,
    // RFC 8689 promises TLS along the whole delivery chain, which a relay into SES cannot vouch for.
    hideREQUIRETLS: true,
    // Who must authenticate is decided at MAIL (network, SMTP_AUTH_REQUIRED), not by smtp-server.
    authOptional: true,
    // AUTH is offered only after STARTTLS unless explicitly allowed (for loopback set-ups).
    allowInsecureAuth: config.SMTP_ALLOW_INSECURE_AUTH,
    // PTR lookups cost a DNS round trip per connection and the hostname decides nothing here.
    disableReverseLookup: true,
    socketTimeout: config.SMTP_SOCKET_TIMEOUT,
    // stop() first waits for transactions in progress; idle sessions then get this long to leave.
    closeTimeout: IDLE_CLOSE_GRACE_MS,
    // smtp-server's own check runs before onConnect and answers without an enhanced code, log line or
    // metric: it is set a little higher, so that the gateway's limit (onConnect) is the one clients meet.
    maxClients: backstopMaxClients(config.SMTP_MAX_CONNECTIONS),
    logger: false,
    ...(tls ? smtpServerTlsOptions(tls) : {}),
    ...handlers,
  };

  const servers: SMTPServer[] = [];
  const plain = new SMTPServer(base);
  servers.push(plain);
  // Before STARTTLS, AUTH is not offered; asked for anyway, it gets 530 rather than 500.
  if (authEnabled && tls && !config.SMTP_ALLOW_INSECURE_AUTH) answerAuthBeforeStartTls(plain);
  const secure =
    tls && config.SMTP_TLS_PORT !== undefined ? new SMTPServer({ ...base, secure: true }) : undefined;
  if (secure) servers.push(secure);
  for (const server of servers) {
    acceptBareEnvelopeAddresses(server);
    guardRefusedData(server, logger);
  }
  const unfollow = tls ? servers.map((server) => followCertificateStore(server, tls)) : [];
  const logServerError = createServerErrorLogger(logger);
  for (const server of servers) server.on('error', logServerError);
  // Replies produced in one turn (a pipelining client's MAIL, RCPT and DATA) leave in one write.
  if (!config.SMTP_PROXY_PROTOCOL) plain.server.on('connection', coalesceSocketWrites);

  const proxyRefusal = ERROR_CATALOG.SMTP_PROXY_HEADER_INVALID.smtp;
  const untrusted = ERROR_CATALOG.SMTP_PROXY_PEER_UNTRUSTED.smtp;
  const trusted = createNetworkPolicy(config.SMTP_PROXY_TRUSTED_NETWORKS);
  /** In front of SMTP_PORT when SMTP_PROXY_PROTOCOL is on. */
  const smtpFront = config.SMTP_PROXY_PROTOCOL
    ? createProxyFront({
        ...options,
        listener: 'smtp',
        maxPending: config.SMTP_MAX_CONNECTIONS,
        trusted,
        refusal: `${proxyRefusal.code} ${proxyRefusal.enhanced} PROXY protocol header missing or invalid\r\n`,
        untrustedRefusal: `${untrusted.code} ${untrusted.enhanced} Connections are taken only through the load balancer\r\n`,
        handOver(socket, client) {
          coalesceSocketWrites(socket);
          plain.connect(socket, client);
          socket.resume();
        },
      })
    : undefined;
  /** In front of SMTP_TLS_PORT when SMTP_TLS_PROXY_PROTOCOL is on: the header, then the handshake. */
  const smtpsFront =
    secure && tls && config.SMTP_TLS_PROXY_PROTOCOL
      ? createProxyFront({
          ...options,
          listener: 'smtps',
          maxPending: config.SMTP_MAX_CONNECTIONS,
          trusted,
          handOver(socket, client) {
            return acceptTls(socket, tls, config.SMTP_SOCKET_TIMEOUT).then(
              (tlsSocket) => {
                coalesceSocketWrites(tlsSocket);
                secure.connect(tlsSocket, client);
              },
              (err: Error) =>
                logger.info({ client: client.remoteAddress, err: err.message }, 'smtp.tls_failed'),
            );
          },
        })
      : undefined;
  /** Each smtp-server fed by a PROXY front, with its front. */
  const fronted = new Map<SMTPServer, ProxyFront>();
  if (smtpFront) fronted.set(plain, smtpFront);
  if (secure && smtpsFront) fronted.set(secure, smtpsFront);

  // A client that trickles bytes just fast enough to beat the idle timeout (slowloris) is closed
  // once its session is older than SMTP_MAX_SESSION_TIME, counted from its connect (onConnect
  // stamps it); smtp-server's connections are read through connectionsOf().
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const server of servers) {
      for (const connection of connectionsOf(server)) {
        const id = connection.session?.id ?? '';
        const since = state.openedAt.get(id);
        // A message being written to Redis is answered first (SMTP_INTAKE_TIMEOUT bounds that).
        if (state.storing.has(id)) continue;
        if (since !== undefined && now - since > config.SMTP_MAX_SESSION_TIME) {
          logger.warn({ sid: id }, 'smtp.session_too_long');
          state.openedAt.delete(id);
          connection.send(421, '4.4.2 Session time limit reached, closing');
          connection.close();
        }
      }
    }
  }, SESSION_SWEEP_MS);
  sweeper.unref();

  function listen(target: net.Server, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      target.once('error', reject);
      target.listen(port, config.SMTP_HOST, () => {
        target.off('error', reject);
        resolve(target.address() as net.AddressInfo);
      });
    });
  }

  return {
    get busySessions() {
      return openTransactions();
    },
    async start() {
      const smtp = await listen(smtpFront ?? plain.server, config.SMTP_PORT);
      const smtps = secure ? await listen(smtpsFront ?? secure.server, config.SMTP_TLS_PORT ?? 0) : undefined;
      return smtps ? { smtp, smtps } : { smtp };
    },
    async stop(timeoutMs) {
      draining = true;
      const deadline = Date.now() + timeoutMs;
      while (openTransactions() > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      }
      if (openTransactions() > 0) logger.warn({ open: state.busy.size }, 'smtp.shutdown_timeout');
      clearInterval(sweeper);
      for (const stop of unfollow) stop();
      // Every listener stops accepting now, and idle sessions get their 421 after the same grace.
      await Promise.all(
        servers.map((server) => {
          const front = fronted.get(server);
          if (front) return closeBehindFront(server, front, IDLE_CLOSE_GRACE_MS);
          return new Promise<void>((resolve) => server.close(() => resolve()));
        }),
      );
    },
  };
}

/**
 * smtp-server's connections: an internal set, read here (session time limit, shutdown) and hooked by
 * auth-before-starttls.ts and bare-envelope-address.ts.
 */
function connectionsOf(server: SMTPServer): Set<LiveConnection> {
  return (server as unknown as { connections: Set<LiveConnection> }).connections;
}

/**
 * Closes a server whose sockets come from a PROXY front as smtp-server's close() closes one that
 * listens itself. smtp-server's close() still runs (from then on it answers any command with 421),
 * but its own net.Server never listened, so it calls back at once and cancels the timer that closes
 * idle sessions; and the front's close() calls back only once every socket it accepted has closed,
 * handed-over sessions included. So: the front stops accepting now, and after `graceMs` the sockets
 * still before their session are destroyed and the sessions left get smtp-server's own 421.
 */
function closeBehindFront(server: SMTPServer, front: ProxyFront, graceMs: number): Promise<void> {
  server.close();
  return new Promise((resolve) => {
    const grace = setTimeout(() => {
      front.destroyPending();
      for (const connection of connectionsOf(server)) {
        connection.send(421, 'Server shutting down');
        connection.close();
      }
      resolve();
    }, graceMs);
    // Unreferenced, as smtp-server's own: it must not keep a process up that has nothing else to do.
    grace.unref();
    front.close(() => {
      clearTimeout(grace);
      resolve();
    });
  });
}
