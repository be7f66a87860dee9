import { spawn } from 'node:child_process';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';

// A real process with a real pipe for stdin: the non-TTY path as scripts use it.
describe('ses-relay user hash (a real process)', () => {
  it('hashes a password piped into a real process and exits 0; exits 1 on an empty one', async () => {
    const script = [
      "import { Command } from 'commander';",
      "import { registerUserCommands } from './src/auth/index.ts';",
      'const program = new Command();',
      'registerUserCommands(program);',
      "await program.parseAsync(process.argv.slice(1), { from: 'user' });",
    ].join('\n');
    const run = (input: string) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script, '--', 'user', 'hash', '--cost', '4'],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        // 'close', not 'exit': the process may have exited before the last of its output was read.
        child.once('close', (code) => resolve({ code, out, err }));
        child.stdin.end(input);
      });

    const ok = await run('piped secret\n');
    expect(ok.code).toBe(0);
    expect(await bcrypt.compare('piped secret', ok.out.trim())).toBe(true);

    const empty = await run('\n');
    expect(empty.code).toBe(1);
    expect(empty.out).toBe('');
    expect(empty.err).toContain('error: refusing an empty password');
  });
});
