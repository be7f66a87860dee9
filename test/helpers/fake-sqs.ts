// A fake SQS endpoint (AWS JSON 1.0 protocol, as the SDK speaks it) for the feedback poller: holds
// messages, hands them out with receipt handles, hides received ones for a visibility timeout and
// counts receives, so tests can see what was deleted and what was left for the redrive policy.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';

interface StoredMessage {
  id: string;
  body: string;
  receipt?: string;
  visibleAt: number;
  receiveCount: number;
}

export class FakeSqs {
  readonly messages: StoredMessage[] = [];
  readonly deleted: string[] = [];
  visibilityMs = 300;
  /** The region each request was signed for (its SigV4 credential scope). */
  readonly signingRegions: string[] = [];
  /** While true, ReceiveMessage requests are taken and never answered (a half-open connection). */
  hangReceives = false;
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get queueUrl(): string {
    return `${this.url}/123456789012/ses-feedback`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  send(body: string): string {
    const id = randomUUID();
    this.messages.push({ id, body, visibleAt: 0, receiveCount: 0 });
    return id;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/sqs\//.exec(req.headers.authorization ?? '');
      if (scope) this.signingRegions.push(scope[1]!);
      if (target === 'AmazonSQS.ReceiveMessage' && this.hangReceives) return;
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      if (target === 'AmazonSQS.ReceiveMessage') return this.receive(input, res);
      if (target === 'AmazonSQS.DeleteMessage') {
        const index = this.messages.findIndex((m) => m.receipt === input.ReceiptHandle);
        if (index !== -1) this.deleted.push(this.messages.splice(index, 1)[0]!.id);
        return reply(res, 200, {});
      }
      reply(res, 400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: target });
    });
  }

  private receive(input: Record<string, unknown>, res: http.ServerResponse): void {
    const max = Number(input.MaxNumberOfMessages ?? 1);
    const deadline = Date.now() + Math.min(Number(input.WaitTimeSeconds ?? 0), 1) * 1000;
    const attempt = () => {
      const now = Date.now();
      const ready = this.messages.filter((m) => m.visibleAt <= now).slice(0, max);
      if (ready.length === 0 && Date.now() < deadline && !res.destroyed) return void setTimeout(attempt, 20);
      for (const message of ready) {
        message.receipt = randomUUID();
        message.visibleAt = now + this.visibilityMs;
        message.receiveCount++;
      }
      reply(res, 200, {
        // The SDK checks MD5OfBody against the body, as real SQS sends it.
        Messages: ready.map((m) => ({
          MessageId: m.id,
          ReceiptHandle: m.receipt,
          Body: m.body,
          MD5OfBody: createHash('md5').update(m.body).digest('hex'),
        })),
      });
    };
    attempt();
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
}

export async function startFakeSqs(): Promise<FakeSqs> {
  return new FakeSqs().start();
}
