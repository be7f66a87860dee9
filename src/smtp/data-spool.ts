// Reads the DATA stream without holding large messages in memory. A message up to
// SPOOL_THRESHOLD_BYTES is kept in memory and written to Redis in one go (the fast path for typical
// mail). A larger one is written to a temporary Redis key while it arrives: once the buffered prefix
// holds the whole header section (up to its blank line), that prefix is prepared for SES and
// stored, then every further chunk is appended, with the stream paused while too many appends are
// in flight. So 50 sessions sending 25 MB each hold a few hundred KB apiece, not 25 MB several
// times over. A header section longer than MAX_HEADER_SECTION_BYTES is refused: it could only be
// prepared by holding it all, and no real mail has one that large. A message with no blank line in
// its first MAX_HEADER_SECTION_BYTES (a script's Subject line and a long report straight after it)
// has its leading header fields as header section, as one with no blank line at all (headers.ts):
// it is spooled from there, unless those fields themselves run past the limit.
import type { Redis } from 'ioredis';
import type { SMTPServerDataStream } from 'smtp-server';
import { createHeaderEndScanner, MAX_HEADER_SECTION_BYTES } from '../mail/header-end.js';
import { leadingFieldsEnd } from '../mail/headers.js';
import { MAX_LINE_CHARS } from '../mail/message-check.js';
import { prepareMessage, type PreparedMessage, type PrepareOptions } from '../mail/prepare.js';

/** Messages up to this size stay in memory until they are complete. */
export const SPOOL_THRESHOLD_BYTES = 256 * 1024;
/** Appends in flight per session before the DATA stream is paused (backpressure to the client). */
const MAX_APPENDS_IN_FLIGHT = 4;

export type SpoolResult =
  | { kind: 'memory'; raw: Buffer }
  | {
      kind: 'spooled';
      prepared: Omit<PreparedMessage, 'raw'>;
      /** Bytes of the prepared message, as SES receives it. */
      size: number;
      /** The first line over the limit in the prepared message (its number there). */
      longLine?: { line: number; length: number };
    }
  | { kind: 'oversized'; bytes: number }
  /** No blank line within MAX_HEADER_SECTION_BYTES. */
  | { kind: 'header-too-big'; bytes: number }
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
  /** How the message is prepared (prepare.ts): for a spooled one, its header section on arrival. */
  prepare: PrepareOptions;
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
    const headerEnd = createHeaderEndScanner();
    let headerTooBig = false;

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

    /**
     * APPEND creates a key that is gone: after a Redis restart without persistence (or a failover to
     * a replica that had not received it yet) it would hold only the rest of the message, and the
     * end of DATA would queue that tail. The length APPEND returns tells: it must be every byte
     * spooled so far (appends go out in order on one connection).
     */
    const appendChecked = async (chunk: Buffer, expected: number): Promise<void> => {
      const length = await redis.append(spoolKey, chunk);
      if (length !== expected) {
        throw new Error(`the spooled message lost its first part: ${length} of ${expected} bytes in Redis`);
      }
    };

    const startSpooling = () => {
      spooling = true;
      // The prefix holds the whole header section (spooling waits for its blank line, or for the
      // end of its leading fields when there is none within the limit): prepare it once. Its long
      // lines are looked for in the prepared bytes, the ones SES receives.
      const { raw, ...rest } = prepareMessage(Buffer.concat(buffered, length), options.prepare);
      prepared = rest;
      lines.feed(raw);
      spooledBytes = raw.length;
      buffered.length = 0;
      write(redis.set(spoolKey, raw, 'PX', options.ttlMs));
    };

    /**
     * Whether the header section is known to be longer than the limit. Until its blank line comes,
     * it is at least every byte so far but a last CR (which may begin the blank line): one long
     * line without an LF counts too, so the buffer never grows much past the limit.
     */
    const headerOverLimit = () => (headerEnd.found ?? length - 1) > MAX_HEADER_SECTION_BYTES;

    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > options.limitBytes || failure || headerTooBig) return;
      if (spooling) {
        lines.feed(chunk);
        spooledBytes += chunk.length;
        write(appendChecked(chunk, spooledBytes));
        return;
      }
      buffered.push(chunk);
      headerEnd.feed(chunk);
      if (headerOverLimit()) {
        // No blank line within the limit: the header section is the leading run of fields, if that
        // ended within it. Otherwise the rest is drained and dropped; the reply comes at the end of
        // DATA.
        const fieldsEnd = leadingFieldsEnd(Buffer.concat(buffered, length));
        if (fieldsEnd !== undefined && fieldsEnd <= MAX_HEADER_SECTION_BYTES) {
          startSpooling();
          return;
        }
        headerTooBig = true;
        buffered.length = 0;
      } else if (length > SPOOL_THRESHOLD_BYTES && headerEnd.found !== undefined) {
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
      } else if (headerTooBig) {
        resolve({ kind: 'header-too-big', bytes: length });
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
