// Decides how outgoing requests leave the host: through the egress proxy the standard variables
// name (HTTPS_PROXY for https:// targets, HTTP_PROXY for http:// ones, NO_PROXY for the exceptions)
// or directly. The only place that decides it: the SES and SQS clients and the SNS certificate and
// SubscribeURL fetches take their agents from here. Each upper-case variable wins over its
// lower-case form (https_proxy, http_proxy, no_proxy), which is read when the upper-case one is
// unset, as Go's net/http does.
import http from 'node:http';
import https from 'node:https';
import { EgressAgent, proxyLabel } from './egress-agent.js';
import { parseNoProxy } from './no-proxy.js';

export { proxyLabel };

/** The settings as the configuration holds them (validated URLs; empty values already undefined). */
export interface ProxyVariables {
  readonly HTTPS_PROXY?: string | undefined;
  readonly https_proxy?: string | undefined;
  readonly HTTP_PROXY?: string | undefined;
  readonly http_proxy?: string | undefined;
  readonly NO_PROXY?: string | undefined;
  readonly no_proxy?: string | undefined;
}

export interface EgressProxy {
  /** The proxy a request to `target` goes through; undefined when it connects directly. */
  proxyFor(target: URL): URL | undefined;
  /** An agent for `protocol` requests that sends each one as proxyFor decides for its target. */
  agent(protocol: 'http:' | 'https:', options?: https.AgentOptions): http.Agent;
}

const directAgent = (protocol: 'http:' | 'https:', options: https.AgentOptions = {}) =>
  protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);

/** No proxy at all: plain Node agents, exactly as without this module. */
export const DIRECT: EgressProxy = { proxyFor: () => undefined, agent: directAgent };

const defaultPort = (target: URL) => Number(target.port || (target.protocol === 'https:' ? 443 : 80));

export function egressProxyOf(variables: ProxyVariables): EgressProxy {
  const httpsProxy = variables.HTTPS_PROXY ?? variables.https_proxy;
  const httpProxy = variables.HTTP_PROXY ?? variables.http_proxy;
  if (httpsProxy === undefined && httpProxy === undefined) return DIRECT;
  const proxies = {
    'https:': httpsProxy === undefined ? undefined : new URL(httpsProxy),
    'http:': httpProxy === undefined ? undefined : new URL(httpProxy),
  };
  const noProxy = parseNoProxy(variables.NO_PROXY ?? variables.no_proxy);
  const route = (protocol: 'http:' | 'https:', host: string, port: number) =>
    noProxy.matches(host, port) ? undefined : proxies[protocol];
  return {
    proxyFor(target) {
      if (target.protocol !== 'https:' && target.protocol !== 'http:') return undefined;
      return route(target.protocol, target.hostname, defaultPort(target));
    },
    agent: (protocol, options = {}) => new EgressAgent(route, protocol === 'https:', options),
  };
}

/**
 * The egress proxy of this process, for the calls that have no configuration at hand (the SNS
 * certificate and SubscribeURL fetches). The composition root sets it from the configuration.
 */
let processEgress: EgressProxy = DIRECT;

export function useEgressProxy(egress: EgressProxy): void {
  processEgress = egress;
}

export function currentEgressProxy(): EgressProxy {
  return processEgress;
}
