import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  missingNodeFlags,
  RECOMMENDED_NODE_FLAGS,
  RUNTIME_V8_FLAGS,
  runtimeV8Flags,
} from '../../src/shared/node-flags.js';

describe('missingNodeFlags', () => {
  it('names every recommended flag when none is given', () => {
    expect(missingNodeFlags([], '')).toEqual(RECOMMENDED_NODE_FLAGS);
  });

  it('counts a flag as given on the command line or in NODE_OPTIONS, with any value or spelling', () => {
    expect(missingNodeFlags(['--max-semi-space-size=64'], '')).toEqual([]);
    expect(missingNodeFlags([], '--enable-source-maps --max_semi_space_size=16')).toEqual([]);
    expect(missingNodeFlags(['--max-old-space-size=512'], '--trace-warnings')).toEqual(
      RECOMMENDED_NODE_FLAGS,
    );
  });

  it('is what npm start and npm run demo pass to node', () => {
    const scripts = (
      JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const name of ['start', 'demo']) {
      const words = scripts[name]!.split(/\s+/);
      expect(missingNodeFlags(words, ''), name).toEqual([]);
    }
  });
});

describe('applyRuntimeV8Flags', () => {
  it('gives V8 13 (Node 24) each run-time flag the command line does not name, in either form', () => {
    expect(runtimeV8Flags([], '13.6.233.17-node.53')).toEqual(RUNTIME_V8_FLAGS);
    const given = [
      '--scavenger_max_new_space_capacity_mb=16',
      '--no-external-memory-accounted-in-global-limit',
    ];
    expect(runtimeV8Flags(given, '13.6.233.17-node.53')).toEqual([]);
    // Older V8 would print "unrecognized flag" for what it does not know.
    expect(runtimeV8Flags([], '11.3.244.8-node.38')).toEqual([]);
    expect(runtimeV8Flags([], '12.4.254.21-node.57')).toEqual([]);
    // Node 26: measured without a gain (see node-flags.ts), and it no longer knows the first flag.
    expect(runtimeV8Flags([], '14.6.202.34-node.34')).toEqual([]);
  });

  // V8 14 (Node 26) frees most of these Buffers young but still runs about one mark-compact per two
  // scavenges here, flags or not; the gateway measured the same CPU per message either way.
  it.skipIf(Number(process.versions.v8.split('.')[0]) >= 14)(
    'lets young collections, not mark-compacts, free short-lived 20 KB Buffers',
    () => {
      // On Node 24 without the flags this workload takes ~50 mark-compacts (nodejs/node#61967); Node 20
      // and 22 behave this way by themselves.
      const gcs = () => {
        const child = spawnSync(
          process.execPath,
          ['--max-semi-space-size=32', '--trace-gc', '--import', 'tsx', 'test/helpers/buffer-churn.ts'],
          { encoding: 'utf8' },
        );
        expect(child.status, child.stderr).toBe(0);
        return {
          scavenges: child.stdout.split('Scavenge').length - 1,
          markCompacts: child.stdout.split('Mark-Compact').length - 1,
          stderr: child.stderr,
        };
      };
      const { scavenges, markCompacts, stderr } = gcs();
      expect(stderr).not.toMatch(/unrecognized flag/);
      // Node 20 here: ~70 scavenges and up to 6 mark-compacts (loading tsx among them); Node 24
      // without the flags: 3 scavenges and 29 mark-compacts.
      expect(scavenges).toBeGreaterThan(20);
      expect(markCompacts).toBeLessThan(scavenges / 4);
    },
  );
});
