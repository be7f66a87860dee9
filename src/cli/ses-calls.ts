// Management calls to SES from the CLI (suppression list import and export): paced to a rate, and a
// throttled or transient answer waits and tries again. The SES client itself never retries (client.ts),
// and these APIs are documented at about 1 request/s, so a long export meets throttling for certain.
import { setTimeout as sleep } from 'node:timers/promises';
import { classifySesError, sesErrorFacts } from '../ses/classify.js';

/** First wait after a throttled or transient answer; doubles per consecutive failure up to the cap. */
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 30_000;
/** Tries of one call before the command gives up: throttling passes, a dead endpoint does not. */
const MAX_TRIES = { throttled: 8, transient: 3 } as const;

export interface SesCaller {
  /** Waits for the next slot at the configured rate, then calls, retrying what a retry can fix. */
  call<T>(send: () => Promise<T>): Promise<T>;
}

export interface SesCallerOptions {
  ratePerSecond: number;
  wait?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

export function createSesCaller(options: SesCallerOptions): SesCaller {
  const wait = options.wait ?? sleep;
  const now = options.now ?? Date.now;
  const intervalMs = 1000 / options.ratePerSecond;
  let nextSlot = 0;

  async function slot(): Promise<void> {
    const at = now();
    const start = Math.max(at, nextSlot);
    nextSlot = start + intervalMs;
    if (start > at) await wait(start - at);
  }

  return {
    async call(send) {
      for (let tries = 1; ; tries++) {
        await slot();
        try {
          return await send();
        } catch (err) {
          const kind = classifySesError(sesErrorFacts(err));
          if ((kind !== 'throttled' && kind !== 'transient') || tries >= MAX_TRIES[kind]) throw err;
          await wait(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (tries - 1)));
        }
      }
    },
  };
}
