// Run by node-flags.test.ts in a child process with --trace-gc: sets the gateway's run-time V8 flags,
// then allocates 20 KB Buffers the way intake does, a few dozen alive at a time.
import { applyRuntimeV8Flags } from '../../src/shared/node-flags.js';

applyRuntimeV8Flags();
const alive: Buffer[] = [];
for (let i = 0; i < 100_000; i++) {
  const buffer = Buffer.allocUnsafe(20 * 1024);
  buffer[0] = i & 0xff;
  alive.push(buffer);
  if (alive.length > 50) alive.shift();
}
