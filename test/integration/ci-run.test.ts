// .ci/run as CI runs it, with apt-get, npm and chromium replaced by stubs that record their
// arguments, on a PATH without redis-server. Redis answers on 127.0.0.1:6379 (the tests' own), which
// must not stop the script from installing the binary the tests spawn for their private servers.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/** What .ci/run needs besides the stubs: bash and the few tools it calls. */
const TOOLS = ['bash', 'timeout', 'head', 'grep', 'dirname', 'seq', 'mkdir', 'sleep', 'cat'];

function which(tool: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${tool} not found`);
  return found;
}

/** A PATH holding the real tools, recording stubs, and optionally stand-ins for the Redis binaries. */
function fakePath(dir: string, redisBinaries: boolean): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const tool of TOOLS) fs.symlinkSync(which(tool), path.join(bin, tool));
  const stubs = ['apt-get', 'npm', 'chromium', ...(redisBinaries ? ['redis-server', 'redis-cli'] : [])];
  for (const stub of stubs) {
    const script = `#!${which('bash')}\necho "${stub} $*" >> "${path.join(dir, 'calls')}"\n`;
    fs.writeFileSync(path.join(bin, stub), script, { mode: 0o755 });
  }
  return bin;
}

describe('.ci/run', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const run = (redisBinaries: boolean) => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-ci-'));
    const result = spawnSync(which('bash'), ['.ci/run'], {
      encoding: 'utf8',
      env: { PATH: fakePath(dir, redisBinaries) },
      timeout: 30_000,
    });
    expect(result.status, result.stderr).toBe(0);
    return fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n');
  };

  it('installs redis-server when the binary is missing, even though Redis answers on 6379', () => {
    const calls = run(false);
    expect(calls).toContain('apt-get install -y -qq redis-server');
    expect(calls.slice(-2)).toEqual(['npm install', 'npm test']);
  });

  it("installs nothing when the binaries are there, and ends with the README's test command", () => {
    const calls = run(true);
    expect(calls.filter((call) => call.startsWith('apt-get'))).toEqual([]);
    expect(calls).toEqual(['npm install', 'npm test']);
    const readme = fs.readFileSync('README.md', 'utf8');
    expect(readme).toMatch(/^npm install && npm test {2,}#/m);
    expect(fs.readFileSync('.ci/run', 'utf8').trimEnd().split('\n').at(-1)).toBe('npm install && npm test');
  });
});
