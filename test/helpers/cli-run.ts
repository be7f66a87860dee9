// Runs the operator CLI as a real process (test/helpers/cli-entry.ts) with a clean environment, so
// tests see exactly what an operator sees: stdout, stderr and the exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { inject } from 'vitest';
import { TEST_CREDENTIALS } from './gateway.js';
import { TEST_REDIS_URL } from './redis.js';

/**
 * How a TypeScript entry is started: from the transpiled sources the integration tests' global setup
 * made (test/setup/transpiled-sources.ts; plain node starts in about half the time), else through tsx.
 */
export function entry(file: string): string[] {
  const root = inject('transpiledRoot');
  return root ? [path.join(root, file.replace(/\.ts$/, '.js'))] : ['--import', 'tsx', file];
}
const ENTRY = entry('test/helpers/cli-entry.ts');
/** The real entry: the operator commands plus `start`, `user hash` and `--version`. */
const MAIN_ENTRY = entry('src/cli/main.ts');
/** A CLI process still running after this long is killed, so a failed test leaves no orphan behind. */
const KILL_AFTER_MS = 60_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  done: Promise<CliResult>;
  stdout(): string;
}

/** The environment of a CLI run: test Redis and credentials, no .env file, plus `env`. */
export function cliEnv(env: Record<string, string | undefined> = {}): Record<string, string> {
  const merged: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    DOTENV_PATH: '',
    REDIS_URL: TEST_REDIS_URL,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    ...env,
  };
  return Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** `input`: all of stdin at once, or a stream the test keeps writing to (stdin ends with it). */
export function startCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string | Readable,
  entry: string[] = ENTRY,
): RunningCli {
  const child = spawn(process.execPath, [...entry, ...args], {
    env: cliEnv(env),
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (typeof input === 'string') child.stdin!.end(input);
  else input?.pipe(child.stdin!);
  const guard = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  guard.unref();
  child.once('close', () => clearTimeout(guard));
  const done = new Promise<CliResult>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, stdout: () => stdout };
}

export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<CliResult> {
  return startCli(args, env, input).done;
}

/** Starts src/cli/main.ts, the entry `ses-relay` itself starts (e.g. `start`, a long-running gateway). */
export function startMainCli(args: string[], env: Record<string, string | undefined> = {}): RunningCli {
  return startCli(args, env, undefined, MAIN_ENTRY);
}

/** Runs src/cli/main.ts, the entry `ses-relay` itself starts. */
export function runMainCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<CliResult> {
  return startCli(args, env, input, MAIN_ENTRY).done;
}
