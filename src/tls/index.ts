// TLS for the SMTP listener: the reloadable certificate store and its hooks into TLS servers.
export {
  createCertificateStore,
  loadCertificatePair,
  TLS_MIN_VERSION,
  type CertificateInfo,
  type CertificateStore,
  type CertificateStoreOptions,
  type TlsMaterial,
} from './certificates.js';
export {
  followCertificateStore,
  smtpServerTlsOptions,
  sniCallback,
  type SecureContextTarget,
  type SniCallback,
} from './smtp-tls.js';
export { acceptTls } from './handshake.js';
