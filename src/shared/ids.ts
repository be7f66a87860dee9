// Queue ids: short, unique across processes, sortable by time, safe in SMTP replies and Redis keys.
import { randomFillSync } from 'node:crypto';

const RANDOM_BYTES = 6;
/** Random bytes are drawn 4 KiB at a time: one system call per 682 ids instead of one per id. */
const pool = Buffer.alloc(RANDOM_BYTES * 682);
let offset = pool.length;

function randomHex(): string {
  if (offset + RANDOM_BYTES > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + RANDOM_BYTES);
  offset += RANDOM_BYTES;
  return hex;
}

export function newQueueId(now: number = Date.now()): string {
  return now.toString(36).toUpperCase().padStart(9, '0') + randomHex().toUpperCase();
}
