// Hooks a CertificateStore into TLS servers so that a reloaded certificate is used from the next
// handshake on, for clients that send SNI and for those that do not.
import type tls from 'node:tls';
import type { CertificateStore, TlsMaterial } from './certificates.js';

export type SniCallback = (
  servername: string,
  callback: (err: Error | null, ctx?: tls.SecureContext) => void,
) => void;

/** An SNICallback that answers every name with the store's current context. */
export function sniCallback(store: CertificateStore): SniCallback {
  return (_servername, callback) => callback(null, store.context());
}

/**
 * Options to spread into `new SMTPServer({ ... })`. SNICallback alone is not enough: Node calls it
 * only when the client sends a server name, and many SMTP clients (Postfix by default, anything
 * connecting by IP address) do not; those get the default context built from key/cert, which
 * `followCertificateStore` rebuilds on every reload.
 */
export function smtpServerTlsOptions(store: CertificateStore): TlsMaterial & { SNICallback: SniCallback } {
  return { ...store.options(), SNICallback: sniCallback(store) };
}

/** Anything with smtp-server's `updateSecureContext` (it rebuilds the default context from options). */
export interface SecureContextTarget {
  updateSecureContext(options: TlsMaterial): void;
}

/** Rebuilds the server's default context after each reload; returns a function that stops following. */
export function followCertificateStore(server: SecureContextTarget, store: CertificateStore): () => void {
  return store.onChange((material) => server.updateSecureContext(material));
}
