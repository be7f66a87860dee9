// A minimal SMTP client over a real socket, for tests that need to see every reply exactly.
import net from 'node:net';
import tls from 'node:tls';

export interface SmtpReply {
  code: number;
  lines: string[];
  /** All lines joined by "\n", without the codes. */
  text: string;
}

export class SmtpClient {
  private buffer = '';
  private readonly replies: SmtpReply[] = [];
  private waiters: ((reply: SmtpReply) => void)[] = [];
  private current: string[] = [];
  closed = false;

  private constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => this.onData(data));
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  /**
   * Connects with implicit TLS (SMTPS). With `proxyHeader`, sends that first in clear, as a load
   * balancer with PROXY protocol does, and starts the handshake after it.
   */
  static async connectTls(
    port: number,
    options: { proxyHeader?: Buffer | string } = {},
  ): Promise<{ client: SmtpClient; peer: tls.PeerCertificate }> {
    let tcp: net.Socket | undefined;
    if (options.proxyHeader !== undefined) {
      tcp = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => {
        tcp!.once('connect', resolve);
        tcp!.once('error', reject);
      });
      tcp.write(options.proxyHeader);
    }
    const socket = tcp
      ? tls.connect({ socket: tcp, rejectUnauthorized: false })
      : tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return { client: new SmtpClient(socket), peer: socket.getPeerCertificate() };
  }

  /** STARTTLS and the TLS handshake; returns the server's certificate. */
  async startTls(): Promise<tls.PeerCertificate> {
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) throw new Error(`STARTTLS refused: ${reply.code} ${reply.text}`);
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
    return secure.getPeerCertificate();
  }

  /** AUTH PLAIN with a username and password. */
  auth(username: string, password: string): Promise<SmtpReply> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${username}\0${password}`).toString('base64')}`);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<SmtpClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new SmtpClient(socket);
  }

  private onData(data: string): void {
    this.buffer += data;
    let newline: number;
    while ((newline = this.buffer.indexOf('\r\n')) !== -1) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 2);
      this.current.push(line);
      if (line.length < 4 || line[3] !== '-') {
        const reply: SmtpReply = {
          code: Number(line.slice(0, 3)),
          lines: this.current.map((item) => item.slice(4)),
          text: this.current.map((item) => item.slice(4)).join('\n'),
        };
        this.current = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter(reply);
        else this.replies.push(reply);
      }
    }
  }

  /** The next reply from the server (greeting, or the answer to the oldest unanswered command). */
  read(timeoutMs = 10_000): Promise<SmtpReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no SMTP reply in time')), timeoutMs);
      this.waiters.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Sends DATA, the message (dot-stuffed) and the final dot; returns the reply to the message. */
  async data(message: string | Buffer): Promise<SmtpReply> {
    const start = await this.command('DATA');
    if (start.code !== 354) return start;
    const text = Buffer.isBuffer(message) ? message.toString('latin1') : message;
    const stuffed = text.replace(/^\./gm, '..');
    this.write(Buffer.from(stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`, 'latin1'));
    this.write('.\r\n');
    return this.read();
  }

  /** Greeting + EHLO. */
  async hello(name = 'client.test'): Promise<SmtpReply> {
    const greeting = await this.read();
    if (greeting.code !== 220) return greeting;
    return this.command(`EHLO ${name}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One whole transaction on a fresh connection; returns every reply for assertions. */
export async function sendMail(
  port: number,
  options: { from: string; to: string[]; message: string | Buffer },
): Promise<{ mail: SmtpReply; rcpt: SmtpReply[]; data: SmtpReply | undefined }> {
  const client = await SmtpClient.connect(port);
  try {
    await client.hello();
    const mail = await client.command(`MAIL FROM:<${options.from}>`);
    const rcpt: SmtpReply[] = [];
    for (const to of options.to) rcpt.push(await client.command(`RCPT TO:<${to}>`));
    const data = rcpt.some((reply) => reply.code === 250) ? await client.data(options.message) : undefined;
    await client.command('QUIT').catch(() => undefined);
    return { mail, rcpt, data };
  } finally {
    client.close();
  }
}

/** Sends one simple message and returns its queue id; throws unless the gateway answered 250. */
export async function queueMessage(
  port: number,
  options: { from?: string; to?: string[] } = {},
): Promise<string> {
  const to = options.to ?? ['user@example.net'];
  const result = await sendMail(port, {
    from: options.from ?? 'app@example.com',
    to,
    message: simpleMessage({ subject: `to ${to[0]}` }),
  });
  const queueId = result.data?.code === 250 ? /queued as (\w+)/.exec(result.data.text)?.[1] : undefined;
  if (queueId === undefined) throw new Error(`not queued: ${JSON.stringify(result)}`);
  return queueId;
}

export function simpleMessage(
  fields: { from?: string; to?: string; subject?: string; body?: string; extra?: string[] } = {},
): string {
  return [
    `From: ${fields.from ?? 'App <app@example.com>'}`,
    `To: ${fields.to ?? 'user@example.net'}`,
    `Subject: ${fields.subject ?? 'Test'}`,
    ...(fields.extra ?? []),
    '',
    fields.body ?? 'Hello.',
    '',
  ].join('\r\n');
}
