// The Node.js flags the gateway should run with. V8 reads them only when the process starts, so
// they are given on the command line (`npm start`, the image's ENTRYPOINT, the benchmarks) or in
// NODE_OPTIONS; `ses-relay start` logs a hint when they are missing, and SMTP child processes
// (SMTP_PROCESSES > 1) get them from their primary.
//
// --max-semi-space-size=32: every message allocates about 60 KB of short-lived objects (parsed
// commands, job JSON, Redis commands, the log line) around a 20 KB body. With V8's default 16 MB
// semi-space, objects of messages still in flight at a scavenge are promoted and the old space is
// marked and compacted about five times a second at 2,500 msg/s. A 32 MB semi-space lets them die
// young: paired benchmark runs measured 15–30 % less CPU per message (330–430 µs → 265–330 µs)
// for at most 32 MB more memory.
//
// Two more V8 flags are set at run time instead (applyRuntimeV8Flags): V8 reads them as it goes, and
// Node 20 and 22 do not know the second (on their command line it would stop node with "bad
// option"; set at run time, V8 ignores it). Both are for Node 24 (V8 13.6), which frees short-lived
// Buffers with full mark-compacts instead of young collections (nodejs/node#61967): its default new
// space moved V8's young collection for Buffer memory above the fixed 64 MB external-memory limit
// that starts a mark-compact.
// - --scavenger-max-new-space-capacity-mb=8: Node 20's and 22's own value, which puts that young
//   collection back below the limit.
// - --external-memory-accounted-in-global-limit: counts Buffer memory in V8's global heap limit
//   instead of that fixed one (newer V8 does so by default).
// Measured on Node 24.21 with 13,000 messages: 28 mark-compacts without them, 11 with them (Node 20:
// 3); gateway CPU per message 480–620 µs without, 416–490 µs with, against 300–430 µs on Node 20 in
// the same runs. The image stays on Node 22 for that remaining difference.
//
// Node 26 (V8 14.6) gets no run-time flags. Its V8 dropped the first flag and frees most short-lived
// Buffers young again: 11–14 mark-compacts per 20,000 messages (Node 22: 0–16, median 1). The second
// flag, alone or with --external-memory-max-growing-factor=2, cut mark-compacts in a synthetic Buffer
// churn (10 → 1–4) but not in the gateway (6–19), and gateway CPU per message did not change: about
// 10 % above Node 22's in each of three series of interleaved runs, with or without them.
import v8 from 'node:v8';

export const RECOMMENDED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** The recommended flags not given to this process, by the flag's name (any value counts as given). */
export function missingNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map(flagName);
  return RECOMMENDED_NODE_FLAGS.filter((flag) => !given.includes(flagName(flag)));
}

/** `--max-semi-space-size=32`, `--max_semi_space_size` (and `--no-` forms) name the same V8 flag. */
function flagName(flag: string): string {
  return flag
    .split('=')[0]!
    .replace(/_/g, '-')
    .replace(/^--no-/, '--');
}

/** V8 flags that take effect when set after start-up; see the top of this file. */
export const RUNTIME_V8_FLAGS: readonly string[] = [
  '--scavenger-max-new-space-capacity-mb=8',
  '--external-memory-accounted-in-global-limit',
];

/**
 * The run-time flags for this V8, less any the operator gave on the command line. Only V8 13 (Node
 * 24) gets them: it has the problem and knows both flags, whereas older V8 prints "unrecognized
 * flag" to stderr for a flag it does not know, and V8 14 (Node 26) was measured without a gain.
 */
export function runtimeV8Flags(
  execArgv: readonly string[] = process.execArgv,
  v8Version: string = process.versions.v8,
): string[] {
  if (v8Version.split('.')[0] !== '13') return [];
  const given = execArgv.map(flagName);
  return RUNTIME_V8_FLAGS.filter((flag) => !given.includes(flagName(flag)));
}

/** Sets runtimeV8Flags(); call it first thing, before the process allocates much. */
export function applyRuntimeV8Flags(): void {
  for (const flag of runtimeV8Flags()) v8.setFlagsFromString(flag);
}
