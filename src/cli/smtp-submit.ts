// A minimal SMTP client for `send-test`: one message through the gateway's own listener, exactly as an
// application would send it, so the test covers intake as well as delivery. Plain SMTP without AUTH
// or STARTTLS; behind SMTP_PROXY_PROTOCOL it first says `PROXY UNKNOWN` (the listener then takes the
// socket's own address, loopback, as the client's).
import net from 'node:net';

/** How long one SMTP reply may take before the test gives up on the listener. */
const REPLY_TIMEOUT_MS = 30_000;

export interface SmtpReply {
  code: number;
  text: string;
}

export class SmtpRefusal extends Error {
  constructor(
    readonly step: string,
    readonly reply: SmtpReply,
  ) {
    super(`the gateway refused ${step}: ${reply.code} ${reply.text}`);
    this.name = 'SmtpRefusal';
  }
}

/** Reads complete (possibly multi-line) replies off a socket, in order. */
function replyReader(socket: net.Socket) {
  let buffer = '';
  let lines: string[] = [];
  const ready: SmtpReply[] = [];
  const waiting: { resolve: (reply: SmtpReply) => void; reject: (err: Error) => void }[] = [];
  let failure: Error | undefined;
  socket.setEncoding('latin1');
  socket.on('data', (data: string) => {
    buffer += data;
    let end: number;
    while ((end = buffer.indexOf('\r\n')) !== -1) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      lines.push(line.slice(4));
      if (line[3] === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), text: lines.join(' ') };
      lines = [];
      const waiter = waiting.shift();
      if (waiter) waiter.resolve(reply);
      else ready.push(reply);
    }
  });
  const fail = (err: Error) => {
    failure ??= err;
    for (const waiter of waiting.splice(0)) waiter.reject(err);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the gateway closed the SMTP connection')));
  return (): Promise<SmtpReply> => {
    const next = ready.shift();
    if (next) return Promise.resolve(next);
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
}

export interface Submission {
  host: string;
  port: number;
  helo: string;
  from: string;
  to: string;
  message: string;
  /** Send a PROXY v1 header first (the listener runs with SMTP_PROXY_PROTOCOL). */
  proxyHeader?: boolean;
}

/** Sends one message; resolves with the reply to the message data (250 … queued as <id>). */
export async function submitMessage(submission: Submission): Promise<SmtpReply> {
  const socket = net.connect(submission.port, submission.host);
  socket.setTimeout(REPLY_TIMEOUT_MS, () => socket.destroy(new Error('no SMTP reply in time')));
  const read = replyReader(socket);
  const expect = async (step: string, code: number) => {
    const reply = await read();
    if (reply.code !== code) throw new SmtpRefusal(step, reply);
    return reply;
  };
  const send = (line: string) => socket.write(`${line}\r\n`);
  try {
    if (submission.proxyHeader) socket.write('PROXY UNKNOWN\r\n');
    await expect('the connection', 220);
    send(`EHLO ${submission.helo}`);
    await expect('EHLO', 250);
    send(`MAIL FROM:<${submission.from}>`);
    await expect(`the sender <${submission.from}>`, 250);
    send(`RCPT TO:<${submission.to}>`);
    await expect(`the recipient <${submission.to}>`, 250);
    send('DATA');
    await expect('DATA', 354);
    const body = submission.message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    socket.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    const accepted = await expect('the message', 250);
    send('QUIT');
    return accepted;
  } finally {
    // The gateway closes after QUIT; unref so a slow close never keeps the command alive.
    socket.end();
    socket.unref();
  }
}
