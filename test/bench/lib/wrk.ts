// wrk as the HTTP load generator: each body of a list POSTed once over keep-alive connections, with
// wrk's own latency percentiles (test/bench/lib/wrk-bodies.lua).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LoadTool } from './load-tools.js';

export interface WrkResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

const SCRIPT = path.join(import.meta.dirname, 'wrk-bodies.lua');

/** Posts `bodies` (none may hold a newline) to `url`, stopping once each was answered. */
export async function runWrk(
  tool: LoadTool,
  options: { url: string; bodies: string[]; connections: number },
): Promise<WrkResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-wrk-'));
  const file = path.join(dir, 'bodies.txt');
  fs.writeFileSync(file, options.bodies.join('\n') + '\n');
  const target = new URL(options.url);
  try {
    // wrk stops after this many answers; the requests still in flight then take the last bodies,
    // so no body is sent twice.
    const answers = options.bodies.length - options.connections;
    // wrk always runs for its -d duration (the script stops sending early): long enough for the
    // answers at 2,000/s, not much longer.
    const seconds = Math.ceil(answers / 2000) + 3;
    const { stdout } = await promisify(execFile)(
      tool.path,
      ['-t1', `-c${options.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', SCRIPT, target.origin],
      {
        env: {
          ...process.env,
          ...tool.env,
          WRK_BODIES: file,
          WRK_REQUESTS: String(answers),
          WRK_PATH: target.pathname,
        },
      },
    );
    const line = stdout.split('\n').find((text) => text.startsWith('{"answered"'));
    if (!line) throw new Error(`wrk printed no figures: ${stdout.slice(0, 500)}`);
    const figures = JSON.parse(line) as Record<
      'answered' | 'elapsedUs' | 'p50Us' | 'p99Us' | 'failed',
      number
    >;
    if (figures.answered < answers)
      throw new Error(`wrk had ${figures.answered} of ${answers} answers in ${seconds} s`);
    return {
      requests: figures.answered,
      perSecond: figures.answered / (figures.elapsedUs / 1e6),
      p50Ms: figures.p50Us / 1000,
      p99Ms: figures.p99Us / 1000,
      failed: figures.failed,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
