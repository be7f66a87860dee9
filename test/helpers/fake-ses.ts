// A fake SES v2 HTTP endpoint for tests and benchmarks: the real SDK talks to it over a socket. It
// records every SendEmail request (decoded) with its arrival time, and can be scripted to answer
// any SES error, to be slow, or to report account values for GetAccount.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedSend {
  at: number;
  from: string | undefined;
  to: string[];
  cc: string[];
  bcc: string[];
  raw: Buffer;
  configurationSet: string | undefined;
  tags: { Name: string; Value: string }[];
  messageId: string;
}

export interface SesErrorReply {
  status: number;
  type: string;
  message: string;
}

export type SendScript = (send: Omit<RecordedSend, 'messageId'>, index: number) => SesErrorReply | undefined;

interface SendEmailBody {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  Content?: { Raw?: { Data?: string } };
  ConfigurationSetName?: string;
  EmailTags?: { Name: string; Value: string }[];
}

export class FakeSes {
  readonly sends: RecordedSend[] = [];
  /** Every SendEmail call answered so far, accepted or answered with an error. */
  calls = 0;
  /** Requests received, including those still waiting out `latencyMs`. */
  received = 0;
  latencyMs = 0;
  account: Record<string, unknown> = {
    SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 },
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    EnforcementStatus: 'HEALTHY',
  };
  private script: SendScript | undefined;
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private nextId = 1;

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Decide the answer for each SendEmail call; undefined accepts it. */
  onSend(script: SendScript | undefined): void {
    this.script = script;
  }

  /** Answer the next `times` calls with the given error, then accept again. */
  failNext(reply: SesErrorReply, times = 1): void {
    let left = times;
    this.onSend(() => (left-- > 0 ? reply : undefined));
  }

  reset(): void {
    this.sends.length = 0;
    this.calls = 0;
    this.received = 0;
    this.script = undefined;
    this.latencyMs = 0;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received++;
      const respond = () => this.route(req, Buffer.concat(chunks).toString('utf8'), res);
      if (this.latencyMs > 0) setTimeout(respond, this.latencyMs);
      else respond();
    });
  }

  private route(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === '/v2/email/outbound-emails') return this.sendEmail(body, res);
    if (req.method === 'GET' && path === '/v2/email/account') return reply(res, 200, this.account);
    reply(res, 404, { message: `fake SES has no route ${req.method} ${path}` }, 'NotFoundException');
  }

  private sendEmail(body: string, res: http.ServerResponse): void {
    const index = this.calls++;
    const input = JSON.parse(body) as SendEmailBody;
    const send = {
      at: Date.now(),
      from: input.FromEmailAddress,
      to: input.Destination?.ToAddresses ?? [],
      cc: input.Destination?.CcAddresses ?? [],
      bcc: input.Destination?.BccAddresses ?? [],
      raw: Buffer.from(input.Content?.Raw?.Data ?? '', 'base64'),
      configurationSet: input.ConfigurationSetName,
      tags: input.EmailTags ?? [],
    };
    const error = this.script?.(send, index);
    if (error) return reply(res, error.status, { message: error.message }, error.type);
    const messageId = `0100fake${String(this.nextId++).padStart(8, '0')}-ses-000000`;
    this.sends.push({ ...send, messageId });
    reply(res, 200, { MessageId: messageId });
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown, errorType?: string): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers).end(JSON.stringify(body));
}

export async function startFakeSes(): Promise<FakeSes> {
  return new FakeSes().start();
}
