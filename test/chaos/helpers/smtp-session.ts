// One SMTP connection for the chaos sender: reads replies (multi-line aware) with a timeout, and
// fails every pending read the moment the socket closes, because a gateway killed with -9 never
// says goodbye.
import net from 'node:net';

export interface Reply {
  code: number;
  text: string;
}

export class SessionClosedError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'SessionClosedError';
  }
}

interface Waiter {
  resolve(reply: Reply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class SmtpSession {
  private buffer = '';
  private lines: string[] = [];
  private readonly replies: Reply[] = [];
  private readonly waiters: Waiter[] = [];
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (data: string) => this.onData(data));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.closed = true;
      for (const waiter of this.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new SessionClosedError('connection closed'));
      }
    });
  }

  static async open(port: number, timeoutMs: number): Promise<SmtpSession> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timeout'));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new SmtpSession(socket);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  read(timeoutMs: number): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new SessionClosedError('connection closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          this.socket.destroy();
          reject(new SessionClosedError(`no reply in ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  write(text: string): void {
    if (!this.closed) this.socket.write(text, 'latin1');
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(data: string): void {
    this.buffer += data;
    let at: number;
    while ((at = this.buffer.indexOf('\r\n')) !== -1) {
      const line = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      this.lines.push(line.slice(4));
      if (line[3] === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
      this.lines = [];
      const waiter = this.waiters.shift();
      if (waiter) {
        clearTimeout(waiter.timer);
        waiter.resolve(reply);
      } else this.replies.push(reply);
    }
  }
}
