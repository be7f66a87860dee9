// `user hash` refusals keep their own exit codes (1, 130 for Ctrl-C) and print one line under the
// program's exit handling, which turns only commander's usage errors into exit 2. On a fake terminal,
// in-process; cli-usage.test.ts runs the piped case as a real process through src/cli/main.ts.
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerUserCommands } from '../../src/auth/index.js';
import type { HashIo } from '../../src/auth/cli-hash.js';
import { withUsageExitCodes } from '../../src/cli/operator-commands.js';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Runs `user hash` on a fake terminal that types each of `keys` once its prompt has appeared. */
async function hashOnTerminal(keys: string[]): Promise<{ code: number; err: string }> {
  const stdin = new PassThrough() as PassThrough & HashIo['stdin'];
  stdin.isTTY = true;
  stdin.setRawMode = () => stdin;
  const stderr = new PassThrough();
  let err = '';
  let typed = 0;
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    const prompts = (err.match(/password: /gi) ?? []).length;
    while (typed < prompts && typed < keys.length) stdin.write(keys[typed++]!);
  });
  // As src/cli/main.ts configures the program: full help after a usage error.
  const program = withUsageExitCodes(new Command('ses-relay'))
    .showHelpAfterError()
    .configureOutput({ writeOut: () => undefined, writeErr: (text) => (err += text) });
  registerUserCommands(program, { stdin, stdout: new PassThrough(), stderr });
  vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Exit(Number(code ?? 0));
  });
  try {
    await program.parseAsync(['user', 'hash', '--cost', '4'], { from: 'user' });
  } catch (e) {
    if (e instanceof Exit) return { code: e.code, err };
    throw e;
  }
  throw new Error('user hash exited without an exit code');
}

describe('ses-relay user hash exit codes', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('exits 1 with one line when the passwords differ', async () => {
    const result = await hashOnTerminal(['one\r', 'two\r']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/error: the passwords do not match\n$/);
    expect(result.err).not.toContain('Usage:');
  });

  it('exits 1 with one line for an empty password', async () => {
    const result = await hashOnTerminal(['\r']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/error: refusing an empty password\n$/);
    expect(result.err).not.toContain('Usage:');
  });

  it('exits 130 on Ctrl-C', async () => {
    const result = await hashOnTerminal(['abc\u0003']);
    expect(result.code).toBe(130);
    expect(result.err).toMatch(/error: interrupted\n$/);
  });
});
