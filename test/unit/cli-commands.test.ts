// Every operator command answers --help with exit 0 and a usage error with exit 2, checked in-process
// (commander only) so all of them fit in a fraction of a second; cli-usage.test.ts runs real processes.
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerOperatorCommands, withUsageExitCodes } from '../../src/cli/operator-commands.js';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function parse(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const program = new Command('ses-relay').configureOutput({
    writeOut: (text) => (out += text),
    writeErr: (text) => (err += text),
  });
  withUsageExitCodes(program);
  registerOperatorCommands(program);
  vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Exit(Number(code ?? 0));
  });
  try {
    program.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof Exit) return { code: e.code, out, err };
    throw e;
  }
  throw new Error(`${args.join(' ')} ran an action instead of exiting`);
}

const COMMANDS: [string[], string[]][] = [
  [
    ['suppression', 'list'],
    ['--reason', '--since', '--limit', '--json'],
  ],
  [
    ['suppression', 'check'],
    ['<address>', '--json'],
  ],
  [
    ['suppression', 'add'],
    ['<address>', '--reason', '--expires'],
  ],
  [['suppression', 'remove'], ['<address>']],
  [
    ['suppression', 'import'],
    ['[file]', '--format', '--from-ses', '--rate'],
  ],
  [
    ['suppression', 'export'],
    ['--format', '--out', '--to-ses', '--rate'],
  ],
  [['queue', 'stats'], ['--json']],
  [['queue', 'pause'], ['--reason']],
  [['queue', 'resume'], []],
  [
    ['queue', 'retry-failed'],
    ['--limit', '--json'],
  ],
  [['message'], ['<id>', '--json']],
  [['doctor'], ['--json']],
  [['send-test'], ['--to', '--bounce', '--complaint', '--from', '--timeout']],
];

describe('operator command line', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(COMMANDS)('%j --help prints its usage and options, exit 0', (path, options) => {
    const result = parse([...path, '--help']);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Usage: ses-relay ${path.join(' ')}`);
    for (const option of options) expect(result.out).toContain(option);
  });

  it('documents the defaults an operator relies on', () => {
    expect(parse(['send-test', '--help']).out).toContain('(default: 120s)');
    expect(parse(['suppression', 'add', '--help']).out).toContain('default: "manual")');
    expect(parse(['suppression', 'list', '--help']).out).toContain('(default: 100)');
  });

  it.each([
    [['queue', 'stats', '--verbose'], "unknown option '--verbose'"],
    [['suppression', 'add', 'a@example.com', '--reason', 'spite'], 'Allowed choices are bounce, complaint'],
    [['suppression', 'add', 'a@example.com', '--expires', 'soon'], 'expected a duration'],
    [
      ['suppression', 'add', 'a@example.com', '--expires', '999999999d'],
      "option '--expires <duration>' argument '999999999d' is invalid. expected at most 36500d",
    ],
    [['suppression', 'list', '--since', 'yesterday'], 'expected an ISO date'],
    [['send-test', '--timeout', '0s'], 'expected a duration'],
    // A bare number would be milliseconds: a suppression lifted, or a test given up, at once.
    [
      ['suppression', 'add', 'a@example.com', '--expires', '30'],
      "argument '30' is invalid. expected a duration such as 30s, 15m, 2h or 3d; give the unit (30 alone would be milliseconds).",
    ],
    [['send-test', '--timeout', '120'], '120 alone would be milliseconds'],
    [['suppression', 'list', '--since', '2026'], 'expected an ISO date'],
    [['suppression'], 'Usage: ses-relay suppression'],
  ])('%j is a usage error, exit 2', (args, message) => {
    const result = parse(args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });
});
