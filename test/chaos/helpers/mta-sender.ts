// The chaos test's SMTP client, behaving like an MTA or an app with a retrying mailer: several
// parallel sessions, each message retried after any temporary failure (4xx, refused or dropped
// connection, no reply) until the gateway answers 250 or a 5xx, and spread over several gateway
// instances like a load balancer would (a failed target is left for the next one in the list).
// It records, per message, the queue id from "250 ... queued as <id>" and when it came.
import { SessionClosedError, SmtpSession, type Reply } from './smtp-session.js';
import { ENVELOPE_FROM, type MessageSpec } from './messages.js';

/** Replies from a live gateway take milliseconds; this only catches a wedged connection. */
const REPLY_TIMEOUT_MS = 20_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** Pause after a temporary failure, growing per attempt up to the cap (an MTA's retry, shortened). */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 1_000;

export interface Ack {
  marker: string;
  queueId: string;
  recipients: string[];
  spec: MessageSpec;
  port: number;
  at: number;
  attempts: number;
}

export interface Refusal {
  marker: string;
  code: number;
  text: string;
}

export interface SenderOptions {
  messages: MessageSpec[];
  /** Ports of the gateway instances, in the order a lane tries them. */
  ports: number[];
  lanes: number;
  /** A message that is still not accepted after this long counts as refused (the client gives up). */
  giveUpMs: number;
  /** Pause between messages on one lane (open-loop pacing); 0 for as fast as the gateway takes them. */
  pauseMs?: number;
}

type Outcome =
  | { kind: 'ack'; queueId: string }
  | { kind: 'temporary'; why: string }
  | { kind: 'permanent'; reply: Reply }
  /** The connection died after the final dot: the message may or may not be queued. */
  | { kind: 'unknown'; why: string };

function dotStuff(text: string): string {
  return text.replace(/^\./gm, '..').replace(/\r?\n?$/, '\r\n');
}

export class MtaSender {
  readonly acked = new Map<string, Ack>();
  readonly refused: Refusal[] = [];
  /** Temporary failures by kind ("451@rcpt", "connect", "closed@data", ...). */
  readonly temporary = new Map<string, number>();
  /** Messages whose connection died after the final dot; the retry may create a second copy. */
  unknownOutcomes = 0;
  /** Every lane has finished. */
  finished = false;
  private next = 0;
  private stopped = false;

  constructor(private readonly options: SenderOptions) {}

  /** Sends every message (or until stop()); resolves when all lanes are done. */
  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.lanes }, (_, lane) => this.lane(lane)));
    this.finished = true;
  }

  /** No new messages are started; those in progress finish. */
  stop(): void {
    this.stopped = true;
  }

  get started(): number {
    return this.next;
  }

  get temporaryTotal(): number {
    return [...this.temporary.values()].reduce((sum, n) => sum + n, 0);
  }

  private count(kind: string): void {
    this.temporary.set(kind, (this.temporary.get(kind) ?? 0) + 1);
  }

  private async lane(lane: number): Promise<void> {
    const ports = this.options.ports;
    let target = lane % ports.length;
    let session: SmtpSession | undefined;
    while (!this.stopped && this.next < this.options.messages.length) {
      const spec = this.options.messages[this.next++]!;
      const deadline = Date.now() + this.options.giveUpMs;
      for (let attempt = 1; ; attempt++) {
        const port = ports[target]!;
        let outcome: Outcome;
        try {
          session ??= await this.connect(port);
          outcome = await this.transact(session, spec);
        } catch (err) {
          outcome = { kind: 'temporary', why: err instanceof Error ? err.message : String(err) };
        }
        if (outcome.kind === 'ack') {
          this.acked.set(spec.marker, {
            marker: spec.marker,
            queueId: outcome.queueId,
            recipients: spec.recipients,
            spec,
            port,
            at: Date.now(),
            attempts: attempt,
          });
          break;
        }
        session?.close();
        session = undefined;
        if (outcome.kind === 'permanent') {
          this.refused.push({ marker: spec.marker, ...outcome.reply });
          break;
        }
        if (outcome.kind === 'unknown') this.unknownOutcomes++;
        this.count(outcome.why);
        if (Date.now() > deadline) {
          this.refused.push({ marker: spec.marker, code: 0, text: `gave up: ${outcome.why}` });
          break;
        }
        // Like a load balancer taking a failed backend out of rotation: try the next instance.
        target = (target + 1) % ports.length;
        await sleep(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * attempt));
      }
      if (this.options.pauseMs) await sleep(this.options.pauseMs);
    }
    session?.close();
  }

  private async connect(port: number): Promise<SmtpSession> {
    let session: SmtpSession;
    try {
      session = await SmtpSession.open(port, CONNECT_TIMEOUT_MS);
    } catch {
      throw new Error('connect');
    }
    try {
      const greeting = await session.read(REPLY_TIMEOUT_MS);
      // 421 at connect: this instance is draining, use another one.
      if (greeting.code !== 220) throw new Error(`${greeting.code}@greeting`);
      session.write('EHLO chaos-client.test\r\n');
      const ehlo = await session.read(REPLY_TIMEOUT_MS);
      if (ehlo.code !== 250) throw new Error(`${ehlo.code}@ehlo`);
      return session;
    } catch (err) {
      session.close();
      throw err instanceof SessionClosedError ? new Error('closed@greeting') : err;
    }
  }

  private async transact(session: SmtpSession, spec: MessageSpec): Promise<Outcome> {
    let stage = 'mail';
    const failed = (reply: Reply): Outcome =>
      reply.code >= 500 ? { kind: 'permanent', reply } : { kind: 'temporary', why: `${reply.code}@${stage}` };
    try {
      // MAIL and every RCPT in one write (the gateway offers PIPELINING), then DATA on its own.
      session.write(
        `MAIL FROM:<${ENVELOPE_FROM}>\r\n` + spec.recipients.map((to) => `RCPT TO:<${to}>\r\n`).join(''),
      );
      const mail = await session.read(REPLY_TIMEOUT_MS);
      if (mail.code !== 250) return failed(mail);
      stage = 'rcpt';
      for (let i = 0; i < spec.recipients.length; i++) {
        const rcpt = await session.read(REPLY_TIMEOUT_MS);
        if (rcpt.code !== 250) return failed(rcpt);
      }
      stage = 'data';
      session.write('DATA\r\n');
      const data = await session.read(REPLY_TIMEOUT_MS);
      if (data.code !== 354) return failed(data);
      stage = 'dot';
      session.write(`${dotStuff(spec.text)}.\r\n`);
      const final = await session.read(REPLY_TIMEOUT_MS);
      if (final.code !== 250) return failed(final);
      const queueId = /queued as (\S+)/.exec(final.text)?.[1];
      if (!queueId) return { kind: 'permanent', reply: { code: 250, text: `no queue id in: ${final.text}` } };
      return { kind: 'ack', queueId };
    } catch (err) {
      const why = `${err instanceof SessionClosedError ? 'closed' : 'error'}@${stage}`;
      return stage === 'dot' ? { kind: 'unknown', why } : { kind: 'temporary', why };
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
