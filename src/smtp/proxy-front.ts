// PROXY protocol in front of smtp-server (SMTP_PROXY_PROTOCOL, SMTP_TLS_PROXY_PROTOCOL): a plain TCP
// server reads the v1 or v2 header a load balancer sends first, then hands the socket over with the
// client's address taken from the header. smtp-server's own `useProxy` reads v1 only. Only peers in
// SMTP_PROXY_TRUSTED_NETWORKS may send a header: anyone else could claim any client address.
import net from 'node:net';
import type { Metrics } from '../metrics/metrics.js';
import { readProxyHeader, type ReadHeaderResult } from '../proxy/index.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { plainIp, type NetworkPolicy } from './policy.js';

/** How long a refused peer gets to read the reply and hang up before its socket is destroyed. */
const REFUSAL_LINGER_MS = 2000;

/** The client as the load balancer saw it (undefined fields: a `PROXY UNKNOWN` or LOCAL header). */
export interface ClientAddress {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
}

export interface ProxyFrontOptions {
  logger: Logger;
  metrics: Metrics;
  /** Which listener this is, for the log: `smtp` (SMTP_PORT) or `smtps` (SMTP_TLS_PORT). */
  listener: 'smtp' | 'smtps';
  /**
   * The reply written before a connection without a valid header is closed. None on the implicit-TLS
   * port: its client waits for a TLS handshake and could not read a plain-text reply.
   */
  refusal?: string;
  /** The load balancers (SMTP_PROXY_TRUSTED_NETWORKS): a connection from anywhere else is refused. */
  trusted: NetworkPolicy;
  /**
   * The reply written before a connection from an untrusted peer is closed; none on the implicit-TLS
   * port, as for `refusal`.
   */
  untrustedRefusal?: string;
  /**
   * Connections still before their SMTP session (header not read yet, or the TLS handshake after it
   * not done) beyond which new ones are closed at once, as smtp-server does with its own pending
   * sockets: a flood of silent connections must not pile up.
   */
  maxPending: number;
  /**
   * Takes over a socket whose header was valid; bytes after the header are still unread on it. The
   * socket counts as pending until the returned promise settles.
   */
  handOver(socket: net.Socket, client: ClientAddress): void | Promise<unknown>;
}

/** The front's TCP server, and a way to drop the connections it has not handed over yet. */
export interface ProxyFront extends net.Server {
  /**
   * Destroys the connections still before their SMTP session (no header yet, or the TLS handshake
   * after it not done). For shutdown: net.Server.close() would wait for them until their own timeout.
   */
  destroyPending(): void;
}

export function createProxyFront(options: ProxyFrontOptions): ProxyFront {
  const { logger, metrics } = options;
  const pending = new Set<net.Socket>();
  let dropping = false;
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    // Decided on the TCP peer before a byte is read: the header itself is what is not to be trusted.
    const peer = socket.remoteAddress ?? '';
    if (!options.trusted.allows(peer)) {
      metrics.messagesRefused.inc({ reason: 'proxy' });
      logger.warn({ listener: options.listener, client: plainIp(peer) }, 'smtp.refused.proxy_untrusted');
      refuse(socket, options.untrustedRefusal);
      return;
    }
    if (pending.size >= options.maxPending) {
      metrics.messagesRefused.inc({ reason: 'connections' });
      socket.destroy();
      return;
    }
    pending.add(socket);
    readProxyHeader(socket)
      .then((result) => admit(socket, result))
      .catch((err: unknown) => {
        // Never expected; a connection that cannot be handed over is closed, the listener goes on.
        logger.error({ listener: options.listener, err: errorMessage(err) }, 'smtp.proxy_handover_failed');
        socket.destroy();
      })
      .finally(() => pending.delete(socket));
  });
  // After listen() a failed accept (ENOBUFS, ENOMEM) is an 'error' event on the server, and one
  // with no listener ends the process. Before it, listen()'s caller handles bind errors itself.
  server.once('listening', () =>
    server.on('error', (err) =>
      logger.error({ listener: options.listener, err: errorMessage(err) }, 'smtp.proxy_front_error'),
    ),
  );
  return Object.assign(server, {
    destroyPending() {
      dropping = true;
      for (const socket of pending) socket.destroy();
    },
  });

  async function admit(socket: net.Socket, result: ReadHeaderResult): Promise<void> {
    // Cut off by destroyPending(): not a client's fault, nothing to refuse or log.
    if (dropping && socket.destroyed) return;
    if (!result.ok && result.silent) {
      // A TCP health check (connect, close) that sent no header: nothing was refused.
      logger.debug({ listener: options.listener, client: socket.remoteAddress }, 'smtp.proxy_closed_silent');
      socket.destroy();
      return;
    }
    if (!result.ok) {
      metrics.messagesRefused.inc({ reason: 'proxy' });
      logger.warn(
        { listener: options.listener, client: socket.remoteAddress, reason: result.reason },
        'smtp.refused.proxy',
      );
      refuse(socket, options.refusal);
      return;
    }
    const source = result.header.command === 'proxy' ? result.header.source : undefined;
    await options.handOver(socket, {
      remoteAddress: source?.address ?? socket.remoteAddress,
      remotePort: source?.port ?? socket.remotePort,
    });
  }
}

/** Writes `reply` (if any) and closes; a peer that does not hang up is cut off after a short linger. */
function refuse(socket: net.Socket, reply: string | undefined): void {
  if (reply === undefined) {
    socket.destroy();
    return;
  }
  // Unread input would turn the close into a reset, which can discard the reply: read and drop it.
  socket.resume();
  socket.end(reply);
  const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
