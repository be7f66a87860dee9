// `ses-relay user hash`: prints the bcrypt hash of a password for SMTP_USERS_FILE. On a terminal the
// password is typed twice without echo; otherwise the first line of standard input is read, so
// scripts can pipe it in. Only the hash goes to stdout; prompts and errors go to stderr.
import bcrypt from 'bcryptjs';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_BCRYPT_COST, MAX_BCRYPT_COST, MIN_RECOMMENDED_BCRYPT_COST } from './password-verifier.js';

/** bcrypt's lowest cost factor. Below MIN_RECOMMENDED_BCRYPT_COST, allowed (tests) but warned about. */
const MIN_COST = 4;
/** bcrypt looks at the first 72 bytes only; anything after would silently not count. */
const MAX_PASSWORD_BYTES = 72;
/** A piped "password" longer than this is not a password (someone piped a file). */
const MAX_LINE_BYTES = 4096;

export interface HashIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Refusals the command reports as one line on stderr; `exitCode` 130 is an interrupt (Ctrl-C). */
export class HashCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'HashCommandError';
  }
}

/** Reads one password in raw mode: nothing is echoed, not even a mask, so its length stays private. */
function readHidden(io: HashIo, prompt: string): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = (error?: HashCommandError) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(chars.join(''));
    };
    const onData = (chunk: string | Buffer) => {
      const text = chunk.toString();
      // Arrow and function keys arrive as one escape sequence per chunk: not part of a password.
      if (text.startsWith('\u001b')) return;
      for (const char of text) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new HashCommandError('interrupted', 130));
        if (char === '\u0004')
          return chars.length === 0 ? finish(new HashCommandError('no password given')) : finish();
        if (char === '\u007f' || char === '\b') chars.pop();
        else if (char === '\u0015') chars = [];
        else if (char >= ' ') chars.push(char);
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** Reads the first line of a non-terminal stdin; the rest is left unread. */
function readFirstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    const done = (error?: Error) => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.removeListener('error', done);
      stdin.pause();
      if (error) return reject(error);
      resolve(Buffer.concat(parts).toString('utf8').split('\n')[0]?.replace(/\r$/, '') ?? '');
    };
    const onData = (chunk: string | Buffer) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(buffer);
      length += buffer.length;
      const newline = buffer.indexOf(0x0a) !== -1;
      if (!newline && length > MAX_LINE_BYTES)
        return done(new HashCommandError('the first line is too long'));
      if (newline) done();
    };
    const onEnd = () => done();
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', done);
    stdin.resume();
  });
}

function checkPassword(password: string): string {
  if (password === '') throw new HashCommandError('refusing an empty password');
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw new HashCommandError(
      `the password is longer than ${MAX_PASSWORD_BYTES} bytes; bcrypt ignores the rest`,
    );
  }
  return password;
}

/** The password to hash: typed twice on a terminal, the first line of stdin otherwise. */
export async function readNewPassword(io: HashIo): Promise<string> {
  if (!io.stdin.isTTY) return checkPassword(await readFirstLine(io.stdin));
  const first = checkPassword(await readHidden(io, 'Password: '));
  const second = await readHidden(io, 'Repeat password: ');
  if (first !== second) throw new HashCommandError('the passwords do not match');
  return first;
}

/** Reads a password and writes its hash as one line to stdout; returns the hash. */
export async function runHashCommand(io: HashIo, options: { cost: number }): Promise<string> {
  if (options.cost < MIN_RECOMMENDED_BCRYPT_COST) {
    io.stderr.write(
      `warning: cost ${options.cost} is weak; use ${MIN_RECOMMENDED_BCRYPT_COST} or more in production\n`,
    );
  }
  const password = await readNewPassword(io);
  const hash = await bcrypt.hash(password, options.cost);
  io.stdout.write(`${hash}\n`);
  return hash;
}

function parseCost(value: string): number {
  const cost = Number(value);
  if (!Number.isInteger(cost) || cost < MIN_COST || cost > MAX_BCRYPT_COST) {
    throw new InvalidArgumentError(`expected a whole number from ${MIN_COST} to ${MAX_BCRYPT_COST}`);
  }
  return cost;
}

/** Adds `user hash` to the `ses-relay` program. */
export function registerUserCommands(program: Command, io: HashIo = process): void {
  const user = program.command('user').description('manage SMTP AUTH users (SMTP_USERS_FILE)');
  user
    .command('hash')
    .description('print the bcrypt hash of a password for the users file (reads stdin when piped)')
    .option(
      '--cost <rounds>',
      'bcrypt cost factor (each step doubles the work)',
      parseCost,
      DEFAULT_BCRYPT_COST,
    )
    .action(async (options: { cost: number }, command: Command) => {
      try {
        await runHashCommand(io, options);
      } catch (err) {
        if (!(err instanceof HashCommandError)) throw err;
        // A refusal is not a usage mistake: one line, no help text after it.
        command
          .showHelpAfterError(false)
          .error(`error: ${err.message}`, { exitCode: err.exitCode, code: 'ses-relay.user.hash' });
      }
    });
}
