// Child processes for benchmarks: the gateway (real CLI), the no-op SMTP server, each waited for
// until it is ready and killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../helpers/wait.js';

export interface Child {
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function startChild(args: string[], env: Record<string, string>, ready: string): Promise<Child> {
  // Output goes to a file, not a pipe: reading a busy gateway's log would cost the load generator
  // CPU on the same two cores it is measuring.
  const logPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-bench-')), 'out.log');
  const fd = fs.openSync(logPath, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '/nonexistent', ...env },
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const output = () => fs.readFileSync(logPath, 'utf8').slice(0, 100_000);
  await waitFor(() => output().includes(ready) || child.exitCode !== null, {
    timeoutMs: 30_000,
    what: args.join(' '),
  });
  if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited: ${output()}`);
  return {
    process: child,
    output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(path.dirname(logPath), { recursive: true, force: true });
    },
  };
}
