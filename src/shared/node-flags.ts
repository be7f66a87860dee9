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

export const RECOMMENDED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** The recommended flags not given to this process, by the flag's name (any value counts as given). */
export function missingNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map(flagName);
  return RECOMMENDED_NODE_FLAGS.filter((flag) => !given.includes(flagName(flag)));
}

/** `--max-semi-space-size=32` and `--max_semi_space_size` name the same V8 flag. */
function flagName(flag: string): string {
  return flag.split('=')[0]!.replace(/_/g, '-');
}
