// Queue ids: short, unique across processes, sortable by time, safe in SMTP replies and Redis keys.
import { randomBytes } from 'node:crypto';

export function newQueueId(now: number = Date.now()): string {
  return now.toString(36).toUpperCase().padStart(9, '0') + randomBytes(6).toString('hex').toUpperCase();
}
