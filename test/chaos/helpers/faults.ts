// Fault actions shared by the scenarios, each leaving a mark on the scenario's timeline and, where
// a fault can legitimately produce a duplicate SES call, the window in which it can.
import type { FakeSes } from '../../helpers/fake-ses.js';
import { waitFor } from '../../helpers/wait.js';
import type { GatewayProcess } from './gateway-process.js';
import type { DuplicateWindow } from './harness.js';
import type { MessageSpec } from './messages.js';

/**
 * A call in flight when its worker dies is accepted by SES up to one SES latency later, or was
 * answered just before the kill while its chunk record was still on the way to Redis.
 */
const KILL_WINDOW_BEFORE_MS = 1_000;
const KILL_WINDOW_AFTER_MS = 1_000;

export interface FaultLog {
  mark(event: string): void;
  windows: DuplicateWindow[];
}

/** kill -9, then start again on the same ports; a worker role opens a duplicate window. */
export async function killAndRestart(
  gateways: GatewayProcess[],
  log: FaultLog,
  options: { why: string; runsWorker: boolean; sesLatencyMs: number },
): Promise<void> {
  const at = Date.now();
  await Promise.all(gateways.map((gateway) => gateway.kill9()));
  const names = gateways.map((gateway) => gateway.name).join('+');
  log.mark(`kill -9 ${names} (${options.why})`);
  if (options.runsWorker) {
    log.windows.push({
      from: at - KILL_WINDOW_BEFORE_MS,
      to: at + options.sesLatencyMs + KILL_WINDOW_AFTER_MS,
      cause: `SES call in flight when ${names} was killed`,
    });
  }
  await Promise.all(gateways.map((gateway) => gateway.start()));
  log.mark(`${names} restarted`);
}

/** SES calls the messages need: one per 50 recipients. */
export function chunkCount(messages: MessageSpec[]): number {
  return messages.reduce((sum, message) => sum + Math.ceil(message.recipients.length / 50), 0);
}

/** Waits until SES has accepted `target` calls; false if that did not happen in time. */
export async function waitForSends(ses: FakeSes, target: number, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor(() => ses.sends.length >= target, {
      timeoutMs,
      intervalMs: 10,
      what: `${target} SES sends`,
    });
    return true;
  } catch {
    return false;
  }
}
