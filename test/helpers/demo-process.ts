// `npm run demo` as a real process with a clean environment, for the tests that check what a
// newcomer meets: its banner, its modes and how it ends.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from './redis.js';

export const BANNER = 'ses-relay demo is running';
/** Absolute, so a demo run in another directory (where it keeps .demo/) still finds them. */
const TSX_LOADER = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;
const DEMO_MAIN = path.resolve('src/demo/main.ts');

export interface Demo {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves to the exit code once the process has exited and all its output has been read. */
  exited: Promise<number | null>;
}

/** The demo in `cwd`, with only PATH, no .env and SMTP on loopback besides `env`. */
export function startDemo(env: Record<string, string>, cwd = process.cwd()): Demo {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, DEMO_MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '', SMTP_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': the process may have exited before the last of its output was read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** SIGTERM, then waits for the exit; nothing when it has already ended. */
export async function stopDemo(demo: Demo | undefined): Promise<void> {
  if (!demo || demo.child.exitCode !== null || demo.child.signalCode !== null) return;
  demo.child.kill('SIGTERM');
  await demo.exited;
}

/** Ports for one demo: SMTP, HTTP and the SES sink. */
export async function demoPorts(): Promise<Record<string, string>> {
  return {
    SMTP_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
    DEMO_SES_SINK_PORT: String(await freePort()),
  };
}
