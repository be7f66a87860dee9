// PROXY protocol (v1 and v2) for a listener behind a load balancer; smtp-server's own `useProxy`
// reads v1 only.
export {
  parseProxyHeader,
  V1_MAX_BYTES,
  V2_SIGNATURE,
  type ProxyAddress,
  type ProxyHeader,
  type ProxyParseResult,
  type ProxyTlv,
} from './proxy-v2.js';
export {
  DEFAULT_MAX_PROXY_HEADER_BYTES,
  DEFAULT_PROXY_HEADER_TIMEOUT_MS,
  readProxyHeader,
  type ReadHeaderResult,
} from './read-header.js';
