// A real gateway process (`node --import tsx src/cli/main.ts start`) that a fault test can kill -9,
// stop with SIGTERM and start again on the same ports. Its output is appended to one log file across
// restarts, so the evidence of every incarnation survives until the test reads it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../../helpers/wait.js';
import { freePort } from '../../helpers/redis.js';
import { TEST_CREDENTIALS } from '../../helpers/gateway.js';

/** `node --import tsx` needs ~3 s to load the gateway on the 2-core test machine; this is headroom. */
const READY_TIMEOUT_MS = 30_000;

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface ExitRecord {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How it was asked to end: 'kill9', 'term', or 'none' (it died by itself). */
  by: 'kill9' | 'term' | 'none';
}

export interface GatewayProcessOptions {
  name: string;
  /** Directory for the log file (one per test file). */
  logDir: string;
  env: Record<string, string>;
  /** Defaults to the real CLI; the SNS scenario uses an entry that injects the test certificate. */
  entry?: string[];
}

/** The environment every chaos gateway shares; a scenario adds its own keys on top. */
export function baseGatewayEnv(fields: {
  redisUrl: string;
  prefix: string;
  sesUrl: string;
}): Record<string, string> {
  return {
    SMTP_HOST: '127.0.0.1',
    SMTP_NAME: 'chaos.test',
    REDIS_URL: fields.redisUrl,
    REDIS_PREFIX: fields.prefix,
    SES_ENDPOINT: fields.sesUrl,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    SMTP_INTAKE_TIMEOUT: '2s',
    SEND_RETRY_BASE: '250ms',
    SEND_RETRY_MAX: '2s',
    SHUTDOWN_TIMEOUT: '10s',
    // A killed worker's jobs come back after lock + stalled check (~7 s) instead of up to 60 s.
    WORKER_LOCK_DURATION: '5s',
    WORKER_STALLED_INTERVAL: '2s',
    SES_MAX_SEND_RATE: '1000',
    LOG_LEVEL: 'info',
  };
}

export class GatewayProcess {
  readonly logPath: string;
  readonly exits: ExitRecord[] = [];
  smtpPort = 0;
  httpPort = 0;
  private child: ChildProcess | undefined;
  private endingBy: ExitRecord['by'] = 'none';
  private starts = 0;

  constructor(private readonly options: GatewayProcessOptions) {
    this.logPath = path.join(options.logDir, `${options.name}.log`);
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and waits for `app.started`; ports are picked once and kept across restarts. */
  async start(): Promise<void> {
    if (this.alive) throw new Error(`${this.name} is already running`);
    if (this.smtpPort === 0) this.smtpPort = await freePort();
    if (this.httpPort === 0) this.httpPort = await freePort();
    this.starts++;
    fs.appendFileSync(
      this.logPath,
      `--- ${this.name} start #${this.starts} at ${new Date().toISOString()}\n`,
    );
    const offset = fs.statSync(this.logPath).size;
    const fd = fs.openSync(this.logPath, 'a');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', ...(this.options.entry ?? ['src/cli/main.ts', 'start'])],
      {
        env: {
          PATH: process.env.PATH ?? '',
          DOTENV_PATH: '',
          SMTP_PORT: String(this.smtpPort),
          HTTP_PORT: String(this.httpPort),
          ...this.options.env,
        },
        stdio: ['ignore', fd, fd],
      },
    );
    fs.closeSync(fd);
    this.child = child;
    this.endingBy = 'none';
    child.once('exit', (code, signal) => this.exits.push({ code, signal, by: this.endingBy }));
    await waitFor(() => this.outputSince(offset).includes('"msg":"app.started"') || !this.alive, {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 50,
      what: `${this.name} to start`,
    });
    if (!this.alive) throw new Error(`${this.name} exited at start-up:\n${this.outputSince(offset)}`);
  }

  /** SIGKILL: no shutdown code runs, in-flight work is cut wherever it is. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL', 'kill9');
  }

  /** SIGTERM and wait for the exit; returns its record (exit code 0 means a clean drain). */
  async terminate(): Promise<ExitRecord> {
    await this.signal('SIGTERM', 'term');
    return this.exits.at(-1)!;
  }

  /** Ends the process whatever its state (test clean-up). */
  async dispose(): Promise<void> {
    if (this.alive) await this.signal('SIGKILL', 'kill9');
  }

  /** Every JSON log line of every incarnation so far. */
  logLines(): LogLine[] {
    const lines: LogLine[] = [];
    for (const text of fs.readFileSync(this.logPath, 'utf8').split('\n')) {
      if (!text.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        // a line cut by kill -9
      }
    }
    return lines;
  }

  private outputSince(offset: number): string {
    const fd = fs.openSync(this.logPath, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      fs.readSync(fd, buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  }

  private async signal(signal: NodeJS.Signals, by: ExitRecord['by']): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    this.endingBy = by;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
