// SMTP load generator for benchmarks: persistent sessions that pipeline MAIL/RCPT/DATA (the server
// offers PIPELINING) and time end-of-DATA → final reply. Closed loop (as fast as the server takes
// mail) or open loop (a fixed offered rate, to read latency at a given load).
import net from 'node:net';

export interface LoadResult {
  sent: number;
  failed: number;
  seconds: number;
  perSecond: number;
  latenciesMs: number[];
}

class Session {
  private buffer = '';
  private waiting: ((code: number) => void)[] = [];
  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      this.buffer += data;
      let at: number;
      while ((at = this.buffer.indexOf('\r\n')) !== -1) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 2);
        if (line[3] !== '-') this.waiting.shift()?.(Number(line.slice(0, 3)));
      }
    });
  }

  static async open(port: number): Promise<Session> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const session = new Session(socket);
    await session.expect(1);
    session.socket.write('EHLO bench.test\r\n');
    await session.expect(1);
    return session;
  }

  private expect(count: number): Promise<number[]> {
    return Promise.all(
      Array.from({ length: count }, () => new Promise<number>((resolve) => this.waiting.push(resolve))),
    );
  }

  /** One message; resolves to [final reply code, ms from end-of-data to the reply]. */
  async send(payload: Buffer): Promise<[number, number]> {
    const envelope = this.expect(3);
    this.socket.write('MAIL FROM:<bench@example.com>\r\nRCPT TO:<user@example.net>\r\nDATA\r\n');
    const codes = await envelope;
    if (codes[2] !== 354) return [codes[2] ?? 0, 0];
    const done = this.expect(1);
    this.socket.write(payload);
    const started = performance.now();
    this.socket.write('.\r\n');
    const [code] = await done;
    return [code ?? 0, performance.now() - started];
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A message of about `bytes` bytes, CRLF lines, no line starting with a dot. */
export function makeMessage(bytes: number): Buffer {
  const head =
    'From: bench@example.com\r\nTo: user@example.net\r\nSubject: benchmark\r\nMessage-ID: <b@bench>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n';
  const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef\r\n';
  let body = '';
  while (head.length + body.length < bytes) body += line;
  return Buffer.from(head + body, 'latin1');
}

export async function runLoad(options: {
  port: number;
  sessions: number;
  messageBytes: number;
  /** Closed loop: stop after this many messages. */
  total?: number;
  /** Open loop: offer this many messages per second for `seconds`. */
  offeredPerSecond?: number;
  seconds?: number;
}): Promise<LoadResult> {
  const payload = makeMessage(options.messageBytes);
  const sessions = await Promise.all(
    Array.from({ length: options.sessions }, () => Session.open(options.port)),
  );
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  const started = performance.now();
  const record = ([code, ms]: [number, number]) => {
    if (code === 250) {
      sent++;
      latencies.push(ms);
    } else failed++;
  };

  if (options.offeredPerSecond && options.seconds) {
    const total = Math.round(options.offeredPerSecond * options.seconds);
    const intervalMs = 1000 / options.offeredPerSecond;
    const idle = [...sessions];
    const backlog: number[] = [];
    let issued = 0;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (idle.length > 0 && backlog.length > 0) {
          backlog.shift();
          const session = idle.pop()!;
          void session.send(payload).then((result) => {
            record(result);
            idle.push(session);
            if (sent + failed === total) resolve();
            else pump();
          });
        }
      };
      const tick = () => {
        const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
        while (issued < due) {
          backlog.push(issued++);
        }
        pump();
        if (issued < total) setTimeout(tick, 1);
      };
      tick();
    });
  } else {
    const total = options.total ?? 10_000;
    let next = 0;
    await Promise.all(
      sessions.map(async (session) => {
        while (next < total) {
          next++;
          record(await session.send(payload));
        }
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  for (const session of sessions) session.close();
  return { sent, failed, seconds, perSecond: sent / seconds, latenciesMs: latencies };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
