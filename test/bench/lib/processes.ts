// Child processes for benchmarks: the gateway (the built CLI, dist/cli/main.js, which `npm run bench`
// builds first), the no-op SMTP server, each waited for until it is ready and killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RECOMMENDED_NODE_FLAGS } from '../../../src/shared/node-flags.js';
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
  // Every child runs with the Node flags `npm start` gives the gateway (the no-op server too, so
  // the two are compared on the same runtime settings). A .js entry (the gateway's build, as
  // `npm start` runs it) runs on plain node; a .ts one through tsx.
  const loader = args[0]!.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...RECOMMENDED_NODE_FLAGS, ...loader, ...args], {
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '', ...env },
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
