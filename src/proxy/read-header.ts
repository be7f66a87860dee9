// Reads a PROXY protocol header (v1 or v2) off a freshly accepted socket, for a net.Server that then
// hands the socket to smtp-server with `connect(socket, { remoteAddress, remotePort })`. Bytes after
// the header are put back, so the SMTP session starts on a clean stream.
import type net from 'node:net';
import { parseProxyHeader, type ProxyHeader } from './proxy-v2.js';

/** A proxy sends its header at once; a peer that has not after this long is not a proxy. */
export const DEFAULT_PROXY_HEADER_TIMEOUT_MS = 5000;
/** v2's length field allows 64 KiB of TLVs; no load balancer sends more than a few hundred bytes. */
export const DEFAULT_MAX_PROXY_HEADER_BYTES = 4096;

export type ReadHeaderResult =
  | { ok: true; header: ProxyHeader }
  /** `silent`: the peer closed without sending a byte, as a TCP health check does. */
  | { ok: false; reason: string; silent?: true };

/** A peer gone before its first byte (closed or reset): it sent no header at all. */
const GONE_SILENT: ReadHeaderResult = {
  ok: false,
  reason: 'connection closed before sending anything',
  silent: true,
};

/**
 * Resolves once a whole header has arrived, or with a reason when it is malformed, too long, late,
 * or the socket closed first. Never rejects; on failure the caller destroys the socket (a proxy that
 * speaks garbage gets no SMTP reply: there is no client on the other end to read one).
 */
export function readProxyHeader(
  socket: net.Socket,
  options: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<ReadHeaderResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PROXY_HEADER_BYTES;
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (result: ReadHeaderResult, rest?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onError);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parseProxyHeader(received);
      switch (parsed.status) {
        case 'complete':
          if (parsed.length > maxBytes) return finish({ ok: false, reason: `header over ${maxBytes} bytes` });
          return finish({ ok: true, header: parsed.header }, received.subarray(parsed.length));
        case 'invalid':
          return finish({ ok: false, reason: parsed.reason });
        case 'incomplete':
          if (received.length > maxBytes) finish({ ok: false, reason: `header over ${maxBytes} bytes` });
          return;
      }
    };
    const onEnd = () =>
      finish(
        received.length === 0
          ? GONE_SILENT
          : { ok: false, reason: 'connection closed before the PROXY header' },
      );
    const onError = (err: Error) =>
      finish(received.length === 0 ? GONE_SILENT : { ok: false, reason: err.message });
    const timer = setTimeout(
      () => finish({ ok: false, reason: 'no PROXY header in time' }),
      options.timeoutMs ?? DEFAULT_PROXY_HEADER_TIMEOUT_MS,
    );
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.on('error', onError);
  });
}
