// The C load generators the benchmarks prefer (smtp-source, wrk): found on PATH, at SMTP_SOURCE /
// WRK, or in .bench-tools/ where test/bench/tools/fetch.sh puts them.
import fs from 'node:fs';
import path from 'node:path';

export interface LoadTool {
  path: string;
  /** Extra environment: the shared libraries of a tool unpacked into .bench-tools/. */
  env: Record<string, string>;
}

const ROOT = path.resolve(import.meta.dirname, '../../..');
const UNPACKED = path.join(ROOT, '.bench-tools/root');
const UNPACKED_PATHS = { 'smtp-source': 'usr/sbin/smtp-source', wrk: 'usr/bin/wrk' } as const;
const ENV_NAMES = { 'smtp-source': 'SMTP_SOURCE', wrk: 'WRK' } as const;

function onPath(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => path.join(dir, name)).find((file) => fs.existsSync(file));
}

export function findLoadTool(name: keyof typeof UNPACKED_PATHS): LoadTool | undefined {
  const configured = process.env[ENV_NAMES[name]];
  if (configured) return { path: configured, env: {} };
  const installed = onPath(name);
  if (installed) return { path: installed, env: {} };
  const unpacked = path.join(UNPACKED, UNPACKED_PATHS[name]);
  if (!fs.existsSync(unpacked)) return undefined;
  const libs = [path.join(UNPACKED, 'usr/lib/postfix'), path.join(UNPACKED, 'usr/lib/x86_64-linux-gnu')];
  return { path: unpacked, env: { LD_LIBRARY_PATH: libs.join(path.delimiter) } };
}
