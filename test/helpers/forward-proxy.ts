// A small forward proxy for egress tests, listening on port 0: CONNECT tunnels (https targets) and
// absolute-form requests (http targets), as squid serves them. It records what passed through it and
// can demand Basic credentials (answering 407 without them), like a corporate proxy.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** `host:port` for a tunnel, the absolute URL for a forwarded request. */
  target: string;
  /** The Proxy-Authorization header as received. */
  authorization: string | undefined;
}

export class ForwardProxy {
  /** Every CONNECT and absolute-form request received, refused ones included. */
  readonly requests: ProxiedRequest[] = [];
  /** `user:password` the proxy demands (407 without them); undefined: anyone may pass. */
  credentials: string | undefined;
  private readonly server = http.createServer((req, res) => this.forward(req, res));
  private readonly sockets = new Set<net.Socket>();

  constructor() {
    this.server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
      this.tunnel(req, socket, head),
    );
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>`, with `user:password@` when given. */
  url(userinfo?: string): string {
    return `http://${userinfo ? `${userinfo}@` : ''}127.0.0.1:${this.port}`;
  }

  /** Requests that went through (CONNECT or forwarded), not the refused ones. */
  passed(method?: string): ProxiedRequest[] {
    return this.requests.filter((r) => this.allows(r.authorization) && (!method || r.method === method));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private allows(authorization: string | undefined): boolean {
    if (this.credentials === undefined) return true;
    return authorization === `Basic ${Buffer.from(this.credentials).toString('base64')}`;
  }

  private record(req: http.IncomingMessage): boolean {
    const authorization = req.headers['proxy-authorization'];
    this.requests.push({ method: req.method ?? '', target: req.url ?? '', authorization });
    return this.allows(authorization);
  }

  private tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): void {
    if (!this.record(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [host = '', port = '443'] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!/^https?:\/\//.test(req.url ?? '')) {
      res.writeHead(400).end('not a proxy request');
      return;
    }
    if (!this.record(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-type': 'text/html' });
      res.end('<html><body>407 Proxy Authentication Required</body></html>');
      return;
    }
    const target = new URL(req.url!);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  }
}

export async function startForwardProxy(): Promise<ForwardProxy> {
  return new ForwardProxy().start();
}
