// The server side of a TLS handshake on a socket accepted elsewhere. The implicit-TLS port behind a
// PROXY protocol reader needs it: the header arrives in clear before the client's hello, so the
// handshake can only start once the header has been read.
import type net from 'node:net';
import tls from 'node:tls';
import type { CertificateStore } from './certificates.js';
import { sniCallback } from './smtp-tls.js';

/**
 * Resolves with the TLS socket once the handshake is done. Rejects, with both sockets destroyed,
 * when the handshake fails, the peer leaves, or `timeoutMs` passes first. Bytes already read off
 * `socket` (the client's hello, arrived with the header) are fed to the handshake by Node.
 */
export function acceptTls(
  socket: net.Socket,
  store: CertificateStore,
  timeoutMs: number,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: store.context(),
      SNICallback: sniCallback(store),
    });
    const timer = setTimeout(
      () => fail(new Error(`TLS handshake not done after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onSecure = () => {
      stop();
      resolve(secure);
    };
    const onClose = () => fail(new Error('connection closed during the TLS handshake'));
    function fail(err: Error) {
      stop();
      secure.on('error', () => undefined);
      secure.destroy();
      socket.destroy();
      reject(err);
    }
    function stop() {
      clearTimeout(timer);
      secure.off('secure', onSecure);
      secure.off('error', fail);
      secure.off('close', onClose);
    }
    secure.once('secure', onSecure);
    secure.once('error', fail);
    secure.once('close', onClose);
  });
}
