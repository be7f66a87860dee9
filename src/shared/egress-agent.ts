// The http.Agent the SES and SQS clients and the SNS fetches send through when an egress proxy is
// configured. Each request is routed by its own target (the SDK picks hosts per call, e.g. an SQS
// queue URL's host): through the proxy, or directly when NO_PROXY names the target. https targets
// are tunnelled with CONNECT; http targets (a local SES_ENDPOINT) go to the proxy in absolute form,
// as curl does. A proxy that cannot be reached or refuses a tunnel fails the request with an error
// that names the proxy by host:port, never with its credentials.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';

type AgentConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];

/** Decides the proxy for a target; undefined: connect directly. */
export type EgressRoute = (protocol: 'http:' | 'https:', host: string, port: number) => URL | undefined;

/** `host:port` of a proxy, without the credentials its URL may carry. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.hostname}:${proxy.port || (proxy.protocol === 'https:' ? '443' : '80')}`;
}

/** Prefixes a connection error with the proxy it concerns; its code (ECONNREFUSED, …) stays. */
function namingProxy(err: unknown, proxy: URL): unknown {
  if (err instanceof Error) err.message = `egress proxy ${proxyLabel(proxy)}: ${err.message}`;
  return err;
}

/**
 * https-proxy-agent hands a refused CONNECT (407, 403, 502) to the caller as if the target had
 * answered it. Here it is an error instead: a proxy's 407 is no answer of SES or SNS (the SNS
 * certificate fetch would take a 4xx for "no such certificate"). The agent's TLS options (`ca`)
 * apply to the target, as with Node's own https.Agent; https-proxy-agent gives them to the proxy.
 */
class TunnelAgent extends HttpsProxyAgent<string> {
  readonly #targetOptions: https.AgentOptions;

  constructor(proxy: string, options: https.AgentOptions) {
    super(proxy, options);
    this.#targetOptions = options;
  }

  override async connect(req: http.ClientRequest, opts: AgentConnectOpts): Promise<net.Socket> {
    let refusal: string | undefined;
    req.once('proxyConnect', (answer: { statusCode: number; statusText: string }) => {
      if (answer.statusCode !== 200) refusal = `${answer.statusCode} ${answer.statusText}`;
    });
    let socket: net.Socket;
    try {
      socket = await super.connect(req, { ...this.#targetOptions, ...opts });
    } catch (err) {
      throw namingProxy(err, this.proxy);
    }
    if (refusal === undefined) return socket;
    socket.destroy();
    throw new Error(
      `egress proxy ${proxyLabel(this.proxy)} refused the tunnel to ${opts.host ?? ''}:${opts.port}: ${refusal}`,
    );
  }
}

class ForwardAgent extends HttpProxyAgent<string> {
  override async connect(
    req: Parameters<HttpProxyAgent<string>['connect']>[0],
    opts: AgentConnectOpts,
  ): Promise<net.Socket> {
    try {
      return await super.connect(req, opts);
    } catch (err) {
      throw namingProxy(err, this.proxy);
    }
  }
}

/** What Node's ClientRequest hands its agent: the request's own connection options. */
interface RequestOptions {
  host?: string | null;
  port?: number | string | null;
}

/**
 * Hands each request to a pooled agent: the direct one, or one per proxy, which keep the sockets
 * and apply the pool limits (maxSockets). The hand-over happens in addRequest, which Node's
 * ClientRequest calls synchronously before a byte of the request is written: http-proxy-agent must
 * rewrite the request line into absolute form before it is, including on a pooled socket.
 */
export class EgressAgent extends http.Agent {
  readonly #route: EgressRoute;
  readonly #secure: boolean;
  readonly #options: https.AgentOptions;
  readonly #direct: http.Agent;
  readonly #viaProxy = new Map<string, http.Agent>();

  constructor(route: EgressRoute, secure: boolean, options: https.AgentOptions = {}) {
    // keepAlive here decides whether requests ask to keep their connection; the pools do the rest.
    super({ keepAlive: options.keepAlive ?? false });
    Object.assign(this, { protocol: secure ? 'https:' : 'http:', defaultPort: secure ? 443 : 80 });
    this.#route = route;
    this.#secure = secure;
    this.#options = options;
    this.#direct = secure ? new https.Agent(options) : new http.Agent(options);
  }

  addRequest(req: http.ClientRequest, options: RequestOptions): void {
    const port = Number(options.port ?? (this.#secure ? 443 : 80));
    const agent = this.agentFor(options.host ?? 'localhost', port) as unknown as {
      addRequest(req: http.ClientRequest, options: RequestOptions): void;
    };
    agent.addRequest(req, options);
  }

  private agentFor(host: string, port: number): http.Agent {
    const proxy = this.#route(this.#secure ? 'https:' : 'http:', host, port);
    if (!proxy) return this.#direct;
    let agent = this.#viaProxy.get(proxy.href);
    if (!agent) {
      agent = this.#secure
        ? new TunnelAgent(proxy.href, this.#options)
        : new ForwardAgent(proxy.href, this.#options);
      this.#viaProxy.set(proxy.href, agent);
    }
    return agent;
  }

  override destroy(): void {
    super.destroy();
    this.#direct.destroy();
    for (const agent of this.#viaProxy.values()) agent.destroy();
  }
}
