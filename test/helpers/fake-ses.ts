// A fake SES v2 HTTP endpoint for tests and benchmarks: the real SDK talks to it over a socket. It
// records every SendEmail request (decoded) with its arrival time, and can be scripted to answer
// any SES error, to be slow, or to report account values for GetAccount. For the operator CLI it also
// serves identities, configuration sets with event destinations and the account-level suppression
// list (paged like SES, with NextToken), all held in plain fields a test sets.
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
  /** Sent as x-amzn-errortype; empty: no error type at all (the SDK then names the error Unknown). */
  type: string;
  message: string;
  /** Sent as a text/html body instead of SES's JSON: a page from a proxy or a wrong endpoint path. */
  html?: string;
}

export interface FakeIdentity {
  VerifiedForSendingStatus: boolean;
  /** PENDING | SUCCESS | FAILED | TEMPORARY_FAILURE | NOT_STARTED */
  DkimStatus?: string;
}

export interface FakeEventDestination {
  Name: string;
  Enabled?: boolean;
  MatchingEventTypes: string[];
  SnsDestination?: { TopicArn: string };
}

export interface FakeSuppressedDestination {
  EmailAddress: string;
  Reason: 'BOUNCE' | 'COMPLAINT';
  LastUpdateTime: Date;
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
  /** SendEmail requests received, including those still waiting out `latencyMs`. */
  sendsReceived = 0;
  latencyMs = 0;
  account: Record<string, unknown> = {
    SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 },
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    EnforcementStatus: 'HEALTHY',
  };
  /** When set, GetAccount answers with this error instead of `account` (an outage, a missing permission). */
  accountError: SesErrorReply | undefined;
  /** GetAccount requests answered so far, with `account` or `accountError`. */
  accountReads = 0;
  /** GetEmailIdentity answers from here (keyed by the identity as SES spells it); 404 otherwise. */
  readonly identities = new Map<string, FakeIdentity>();
  /** GetConfigurationSet(EventDestinations) answer from here; 404 for a name not in the map. */
  readonly configurationSets = new Map<string, { eventDestinations: FakeEventDestination[] }>();
  /** The account-level suppression list; PutSuppressedDestination upserts into it. */
  readonly suppressedDestinations: FakeSuppressedDestination[] = [];
  /** The largest page ListSuppressedDestinations serves, whatever PageSize asks for. */
  suppressionPageSize = 1000;
  /** Every ListSuppressedDestinations request: the NextToken and PageSize it carried. */
  readonly suppressionListRequests: { nextToken: string | undefined; pageSize: number | undefined }[] = [];
  /** Every PutSuppressedDestination body, in order. */
  readonly suppressionPuts: { EmailAddress: string; Reason: string }[] = [];
  /** The access key id each request was signed with (from its SigV4 Authorization header). */
  readonly accessKeyIds: string[] = [];
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
    this.sendsReceived = 0;
    this.script = undefined;
    this.latencyMs = 0;
    this.accountError = undefined;
    this.accountReads = 0;
    this.identities.clear();
    this.configurationSets.clear();
    this.suppressedDestinations.length = 0;
    this.suppressionPageSize = 1000;
    this.suppressionListRequests.length = 0;
    this.suppressionPuts.length = 0;
    this.accessKeyIds.length = 0;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received++;
      if (req.method === 'POST' && req.url?.startsWith('/v2/email/outbound-emails')) this.sendsReceived++;
      const credential = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '');
      if (credential) this.accessKeyIds.push(credential[1]!);
      // Arrival time is when the request is in, not when the simulated latency has passed.
      const arrivedAt = Date.now();
      const respond = () => this.route(req, Buffer.concat(chunks).toString('utf8'), res, arrivedAt);
      if (this.latencyMs > 0) setTimeout(respond, this.latencyMs);
      else respond();
    });
  }

  private route(req: http.IncomingMessage, body: string, res: http.ServerResponse, arrivedAt: number): void {
    const url = new URL(req.url ?? '/', 'http://fake-ses');
    const path = url.pathname;
    if (req.method === 'POST' && path === '/v2/email/outbound-emails')
      return this.sendEmail(body, res, arrivedAt);
    if (req.method === 'GET' && path === '/v2/email/account') {
      this.accountReads++;
      const error = this.accountError;
      if (error) return reply(res, error.status, { message: error.message }, error.type);
      return reply(res, 200, this.account);
    }
    if (path === '/v2/email/suppression/addresses') {
      if (req.method === 'GET') return this.listSuppressed(url.searchParams, res);
      if (req.method === 'PUT') return this.putSuppressed(body, res);
    }
    const identity = /^\/v2\/email\/identities\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && identity) return this.getIdentity(decodeURIComponent(identity[1]!), res);
    const configSet = /^\/v2\/email\/configuration-sets\/([^/]+)(\/event-destinations)?$/.exec(path);
    if (req.method === 'GET' && configSet) {
      return this.getConfigurationSet(decodeURIComponent(configSet[1]!), configSet[2] !== undefined, res);
    }
    reply(res, 404, { message: `fake SES has no route ${req.method} ${path}` }, 'NotFoundException');
  }

  private getIdentity(name: string, res: http.ServerResponse): void {
    const identity = this.identities.get(name);
    if (!identity)
      return reply(res, 404, { message: `Email identity ${name} does not exist.` }, 'NotFoundException');
    reply(res, 200, {
      IdentityType: name.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN',
      VerifiedForSendingStatus: identity.VerifiedForSendingStatus,
      DkimAttributes: {
        Status: identity.DkimStatus ?? 'NOT_STARTED',
        SigningEnabled: identity.DkimStatus === 'SUCCESS',
      },
    });
  }

  private getConfigurationSet(name: string, destinations: boolean, res: http.ServerResponse): void {
    const set = this.configurationSets.get(name);
    if (!set) {
      return reply(res, 404, { message: `Configuration set <${name}> does not exist.` }, 'NotFoundException');
    }
    if (destinations) return reply(res, 200, { EventDestinations: set.eventDestinations });
    reply(res, 200, { ConfigurationSetName: name });
  }

  /** Pages by offset: NextToken is the index of the next entry, as opaque to the SDK as SES's own. */
  private listSuppressed(query: URLSearchParams, res: http.ServerResponse): void {
    const token = query.get('NextToken') ?? undefined;
    const asked = query.get('PageSize');
    this.suppressionListRequests.push({
      nextToken: token,
      pageSize: asked === null ? undefined : Number(asked),
    });
    const start = token === undefined ? 0 : Number(token);
    if (!Number.isInteger(start) || start < 0 || start > this.suppressedDestinations.length) {
      return reply(res, 400, { message: 'Invalid NextToken.' }, 'InvalidNextTokenException');
    }
    const size = Math.min(
      this.suppressionPageSize,
      asked === null ? this.suppressionPageSize : Number(asked),
    );
    const page = this.suppressedDestinations.slice(start, start + size);
    const next = start + page.length;
    reply(res, 200, {
      // restJson timestamps travel as epoch seconds.
      SuppressedDestinationSummaries: page.map((entry) => ({
        EmailAddress: entry.EmailAddress,
        Reason: entry.Reason,
        LastUpdateTime: entry.LastUpdateTime.getTime() / 1000,
      })),
      ...(next < this.suppressedDestinations.length ? { NextToken: String(next) } : {}),
    });
  }

  private putSuppressed(body: string, res: http.ServerResponse): void {
    const input = JSON.parse(body) as { EmailAddress: string; Reason: 'BOUNCE' | 'COMPLAINT' };
    this.suppressionPuts.push({ EmailAddress: input.EmailAddress, Reason: input.Reason });
    const existing = this.suppressedDestinations.find((entry) => entry.EmailAddress === input.EmailAddress);
    if (existing) {
      existing.Reason = input.Reason;
      existing.LastUpdateTime = new Date();
    } else {
      this.suppressedDestinations.push({ ...input, LastUpdateTime: new Date() });
    }
    reply(res, 200, {});
  }

  private sendEmail(body: string, res: http.ServerResponse, arrivedAt: number): void {
    const index = this.calls++;
    const input = JSON.parse(body) as SendEmailBody;
    const send = {
      at: arrivedAt,
      from: input.FromEmailAddress,
      to: input.Destination?.ToAddresses ?? [],
      cc: input.Destination?.CcAddresses ?? [],
      bcc: input.Destination?.BccAddresses ?? [],
      raw: Buffer.from(input.Content?.Raw?.Data ?? '', 'base64'),
      configurationSet: input.ConfigurationSetName,
      tags: input.EmailTags ?? [],
    };
    const error = this.script?.(send, index);
    if (error?.html !== undefined) {
      res.writeHead(error.status, { 'content-type': 'text/html' }).end(error.html);
      return;
    }
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
