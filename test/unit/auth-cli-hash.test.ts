import { PassThrough } from 'node:stream';
import bcrypt from 'bcryptjs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { HashCommandError, registerUserCommands, runHashCommand } from '../../src/auth/index.js';
import type { HashIo } from '../../src/auth/cli-hash.js';

/** A fake terminal: raw-mode switches are recorded, typed keys are written by the test. */
function fakeIo(tty: boolean) {
  const stdin = new PassThrough() as PassThrough & HashIo['stdin'];
  const rawModes: boolean[] = [];
  if (tty) {
    stdin.isTTY = true;
    stdin.setRawMode = (mode: boolean) => rawModes.push(mode);
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { io: { stdin, stdout, stderr }, stdin, rawModes, out: () => out, err: () => err };
}

/** Types `keys` once the prompt for it has appeared, like a person would. */
function typeAfterPrompts(fake: ReturnType<typeof fakeIo>, keys: string[]): void {
  let typed = 0;
  fake.io.stderr.on('data', () => {
    const prompts = (fake.err().match(/password: /gi) ?? []).length;
    while (typed < prompts && typed < keys.length) fake.stdin.write(keys[typed++]!);
  });
}

describe('ses-relay user hash', () => {
  it('asks twice on a terminal in raw mode, echoes nothing and prints a hash that verifies', async () => {
    const fake = fakeIo(true);
    typeAfterPrompts(fake, ['zq\u007fq wörd\r', 'zq wörd\r']);
    const hash = await runHashCommand(fake.io, { cost: 4 });
    expect(fake.out()).toBe(`${hash}\n`);
    expect(await bcrypt.compare('zq wörd', hash)).toBe(true);
    expect(bcrypt.getRounds(hash)).toBe(4);
    expect(fake.err()).not.toMatch(/zq|wörd/);
    expect(fake.err()).toContain('Password: ');
    expect(fake.err()).toContain('Repeat password: ');
    expect(fake.rawModes).toEqual([true, false, true, false]);
  });

  it('refuses two different passwords on a terminal', async () => {
    const fake = fakeIo(true);
    typeAfterPrompts(fake, ['one\r', 'two\r']);
    await expect(runHashCommand(fake.io, { cost: 4 })).rejects.toThrow('the passwords do not match');
    expect(fake.out()).toBe('');
    expect(fake.rawModes.at(-1)).toBe(false);
  });

  it('refuses an empty password and stops on Ctrl-C with exit code 130', async () => {
    const empty = fakeIo(true);
    typeAfterPrompts(empty, ['\r']);
    await expect(runHashCommand(empty.io, { cost: 4 })).rejects.toThrow('refusing an empty password');

    const interrupted = fakeIo(true);
    typeAfterPrompts(interrupted, ['abc\u0003']);
    const error = await runHashCommand(interrupted.io, { cost: 4 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(HashCommandError);
    expect((error as HashCommandError).exitCode).toBe(130);
    expect(interrupted.rawModes).toEqual([true, false]);
  });

  it('reads the first line of a piped stdin, once, without prompting', async () => {
    const fake = fakeIo(false);
    fake.stdin.end('from pipe\r\nsecond line\n');
    const hash = await runHashCommand(fake.io, { cost: 4 });
    expect(await bcrypt.compare('from pipe', hash)).toBe(true);
    expect(fake.err()).toBe('warning: cost 4 is weak; use 10 or more in production\n');
  });

  it('refuses an empty pipe and a password bcrypt would truncate', async () => {
    const empty = fakeIo(false);
    empty.stdin.end('');
    await expect(runHashCommand(empty.io, { cost: 4 })).rejects.toThrow('refusing an empty password');
    const long = fakeIo(false);
    long.stdin.end(`${'x'.repeat(73)}\n`);
    await expect(runHashCommand(long.io, { cost: 4 })).rejects.toThrow('longer than 72 bytes');
  });

  it('is reachable as `user hash --cost` through commander and rejects a bad cost', async () => {
    const fake = fakeIo(false);
    const program = new Command().exitOverride();
    program.configureOutput({ writeErr: () => undefined });
    registerUserCommands(program, fake.io);
    fake.stdin.end('secret\n');
    await program.parseAsync(['user', 'hash', '--cost', '5'], { from: 'user' });
    expect(bcrypt.getRounds(fake.out().trim())).toBe(5);

    const bad = new Command().exitOverride();
    bad.configureOutput({ writeErr: () => undefined });
    registerUserCommands(bad, fakeIo(false).io);
    await expect(bad.parseAsync(['user', 'hash', '--cost', '3'], { from: 'user' })).rejects.toThrow(
      /expected a whole number from 4 to 15/,
    );
    const slow = new Command().exitOverride();
    slow.configureOutput({ writeErr: () => undefined });
    registerUserCommands(slow, fakeIo(false).io);
    await expect(slow.parseAsync(['user', 'hash', '--cost', '16'], { from: 'user' })).rejects.toThrow(
      /expected a whole number from 4 to 15/,
    );
  });
});
