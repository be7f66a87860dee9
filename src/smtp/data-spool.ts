// Reads the DATA stream without holding large messages in memory. A message up to
// SPOOL_THRESHOLD_BYTES is kept in memory and written to Redis in one go (the fast path for typical
// mail). A larger one is written to a temporary Redis key while it arrives: its prefix (which holds
// the header section) is prepared for SES and stored, then every further chunk is appended, with the
// stream paused while too many appends are in flight. So 50 sessions sending 25 MB each hold a few
// hundred KB apiece, not 25 MB several times over.
import type { Redis } from 'ioredis';
import type { SMTPServerDataStream } from 'smtp-server';
import { MAX_LINE_CHARS } from '../mail/message-check.js';
import { prepareMessage, type PreparedMessage } from '../mail/prepare.js';

/** Messages up to this size stay in memory until they are complete. */
export const SPOOL_THRESHOLD_BYTES = 256 * 1024;
/** Appends in flight per session before the DATA stream is paused (backpressure to the client). */
const MAX_APPENDS_IN_FLIGHT = 4;

export type SpoolResult =
  | { kind: 'memory'; raw: Buffer }
  | {
      kind: 'spooled';
      prepared: Omit<PreparedMessage, 'raw'>;
      size: number;
      longLine?: { line: number; length: number };
    }
  | { kind: 'oversized'; bytes: number }
  /** The client went away before the end of the message. */
  | { kind: 'aborted'; bytes: number }
  | { kind: 'failed'; error: Error };

export interface SpoolOptions {
  stream: SMTPServerDataStream;
  limitBytes: number;
  redis: Redis;
  /** Where a large message is written while it arrives. */
  spoolKey: string;
  ttlMs: number;
  queueId: string;
  hostname: string;
}

/** Tracks the longest line across chunk boundaries (LF ends a line; a CR before it is not counted). */
function createLineTracker() {
  let line = 1;
  let current = 0;
  let pendingCr = false;
  let found: { line: number; length: number } | undefined;
  return {
    feed(chunk: Buffer) {
      if (found) return;
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (byte === 0x0a) {
          const length = current - (pendingCr ? 1 : 0);
          if (length > MAX_LINE_CHARS) {
            found = { line, length };
            return;
          }
          line++;
          current = 0;
          pendingCr = false;
        } else {
          current++;
          pendingCr = byte === 0x0d;
        }
      }
      if (current - (pendingCr ? 1 : 0) > MAX_LINE_CHARS) found = { line, length: current };
    },
    get found() {
      return found;
    },
  };
}

export function spoolData(options: SpoolOptions): Promise<SpoolResult> {
  const { stream, redis, spoolKey } = options;
  return new Promise((resolve) => {
    const buffered: Buffer[] = [];
    let length = 0;
    let spooling = false;
    let prepared: Omit<PreparedMessage, 'raw'> | undefined;
    let spooledBytes = 0;
    let inFlight = 0;
    let failure: Error | undefined;
    const lines = createLineTracker();

    const write = (command: Promise<unknown>) => {
      inFlight++;
      if (inFlight >= MAX_APPENDS_IN_FLIGHT) stream.pause();
      command
        .then(
          () => undefined,
          (err: Error) => {
            failure ??= err;
          },
        )
        .finally(() => {
          inFlight--;
          if (inFlight < MAX_APPENDS_IN_FLIGHT) stream.resume();
          if (inFlight === 0) settle?.();
        });
    };
    let settle: (() => void) | undefined;

    const startSpooling = () => {
      spooling = true;
      // The prefix holds the header section (in all but pathological cases): prepare it once.
      const first = prepareMessage(Buffer.concat(buffered, length), {
        queueId: options.queueId,
        hostname: options.hostname,
      });
      const { raw, ...rest } = first;
      prepared = rest;
      spooledBytes = raw.length;
      buffered.length = 0;
      write(redis.set(spoolKey, raw, 'PX', options.ttlMs));
    };

    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > options.limitBytes || failure) return;
      if (spooling) {
        lines.feed(chunk);
        spooledBytes += chunk.length;
        write(redis.append(spoolKey, chunk));
        return;
      }
      buffered.push(chunk);
      if (length > SPOOL_THRESHOLD_BYTES) {
        for (const part of buffered) lines.feed(part);
        startSpooling();
      }
    });
    let ended = false;
    let aborted = false;
    const finishWhenIdle = () => {
      if (inFlight === 0) finish();
      else settle = finish;
    };
    const finish = () => {
      if (stream.sizeExceeded || length > options.limitBytes) {
        if (spooling) redis.del(spoolKey).catch(() => undefined);
        resolve({ kind: 'oversized', bytes: length });
      } else if (aborted || failure) {
        // Every append has settled by now, so none can bring the key back after this delete.
        if (spooling) redis.del(spoolKey).catch(() => undefined);
        resolve(aborted ? { kind: 'aborted', bytes: length } : { kind: 'failed', error: failure! });
      } else if (!spooling) {
        resolve({ kind: 'memory', raw: Buffer.concat(buffered, length) });
      } else {
        resolve({
          kind: 'spooled',
          prepared: prepared!,
          size: spooledBytes,
          ...(lines.found ? { longLine: lines.found } : {}),
        });
      }
    };
    // A client that goes away mid-message: smtp-server destroys the stream with an error and
    // 'end' never comes. The spooled bytes are deleted and the session's intake ends.
    stream.once('error', () => {
      aborted = true;
      if (!ended) {
        ended = true;
        finishWhenIdle();
      }
    });
    stream.once('end', () => {
      if (!ended) {
        ended = true;
        finishWhenIdle();
      }
    });
  });
}
