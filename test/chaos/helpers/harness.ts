// What every chaos scenario sets up and checks: its own Redis (AOF, appendfsync everysec, as the
// deployment guide recommends), a fake SES in the test process (it outlives every gateway kill),
// gateway processes that are always ended at clean-up, and the checks that follow reconciliation.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { startFakeSes, type FakeSes } from '../../helpers/fake-ses.js';
import { startPrivateRedis, type PrivateRedis } from '../../helpers/redis.js';
import { baseGatewayEnv, GatewayProcess, type LogLine } from './gateway-process.js';
import type { MtaSender } from './mta-sender.js';
import { reconcile, type Duplicate, type Lost, type Reconciliation } from './reconcile.js';
import { recordResult, smtpSummary, type ScenarioResult } from './results.js';
import type { Rng } from './rng.js';

export const AOF_EVERYSEC = ['--appendonly', 'yes', '--appendfsync', 'everysec'];

export interface ChaosEnv {
  redis: PrivateRedis;
  ses: FakeSes;
  logDir: string;
  /** A gateway process on this env's Redis (or `redisUrl`) and fake SES; ended at dispose(). */
  gateway(
    name: string,
    env: Record<string, string>,
    options?: { redisUrl?: string; entry?: string[] },
  ): GatewayProcess;
  dispose(): Promise<void>;
}

export async function createChaosEnv(name: string, prefix = `chaos-${name}`): Promise<ChaosEnv> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), `ses-relay-chaos-${name}-`));
  const redis = await startPrivateRedis(AOF_EVERYSEC);
  const ses = await startFakeSes();
  const gateways: GatewayProcess[] = [];
  return {
    redis,
    ses,
    logDir,
    gateway(gatewayName, env, options = {}) {
      const gateway = new GatewayProcess({
        name: gatewayName,
        logDir,
        env: {
          ...baseGatewayEnv({ redisUrl: options.redisUrl ?? redis.url, prefix, sesUrl: ses.url }),
          ...env,
        },
        ...(options.entry ? { entry: options.entry } : {}),
      });
      gateways.push(gateway);
      return gateway;
    },
    async dispose() {
      await Promise.all(gateways.map((gateway) => gateway.dispose()));
      await ses.stop();
      await redis.stop();
      // Logs stay for a failed run's evidence only when asked to.
      if (!process.env.CHAOS_KEEP_LOGS) fs.rmSync(logDir, { recursive: true, force: true });
      else console.log(`[chaos] logs kept in ${logDir}`);
    },
  };
}

/** Log lines that mean a process crashed or lost control: nothing in these scenarios may cause one. */
export function crashLines(gateway: GatewayProcess): LogLine[] {
  return gateway
    .logLines()
    .filter(
      (line) =>
        line.level === 'fatal' ||
        line.msg === 'process.unhandled_rejection' ||
        line.msg === 'process.uncaught_exception',
    );
}

/** Gateway log lines with one of the given event names (for a report's evidence). */
export function linesNamed(gateways: GatewayProcess[], names: string[]): LogLine[] {
  return gateways.flatMap((gateway) =>
    gateway.logLines().filter((line) => names.some((n) => line.msg.startsWith(n))),
  );
}

/** A window in which a duplicate is expected (a process killed mid-call, a timeout), with its cause. */
export interface DuplicateWindow {
  from: number;
  to: number;
  cause: string;
}

/** The cause of each duplicate, or undefined when no fault explains it (the test then fails). */
export function explainDuplicates(
  duplicates: Duplicate[],
  windows: DuplicateWindow[],
): { explained: Record<string, number>; unexplained: Duplicate[] } {
  const explained: Record<string, number> = {};
  const unexplained: Duplicate[] = [];
  for (const duplicate of duplicates) {
    const window = windows.find((w) => duplicate.firstAt >= w.from && duplicate.firstAt <= w.to);
    if (window) explained[window.cause] = (explained[window.cause] ?? 0) + duplicate.times - 1;
    else unexplained.push(duplicate);
  }
  return { explained, unexplained };
}

export interface FinishOptions {
  scenario: string;
  rng: Rng;
  env: ChaosEnv;
  prefix: string;
  sender: MtaSender;
  startedAt: number;
  events: string[];
  notes?: string[];
  settleTimeoutMs?: number;
  redisUrl?: string;
  /** Losses the scenario expects and bounds itself (a Redis crash inside its fsync window). */
  acceptLoss?(lost: Lost): boolean;
}

/** Reconciles, records the scenario's result and asserts what must always hold. */
export async function finishScenario(options: FinishOptions): Promise<Reconciliation> {
  const outcome = await reconcile({
    redisUrl: options.redisUrl ?? options.env.redis.url,
    prefix: options.prefix,
    ses: options.env.ses,
    sender: options.sender,
    settleTimeoutMs: options.settleTimeoutMs ?? 45_000,
  });
  const { lostDetails, violations, ...counts } = outcome;
  const result: ScenarioResult = {
    ...counts,
    scenario: options.scenario,
    seed: options.rng.seed,
    wallMs: Date.now() - options.startedAt,
    smtp: smtpSummary(options.sender),
    events: options.events,
    notes: [
      ...(options.notes ?? []),
      ...lostDetails.slice(0, 10).map((lost) => `lost ${lost.marker} ${lost.queueId}: ${lost.detail}`),
      ...violations.slice(0, 10),
    ],
  };
  recordResult(result);
  const unexpected = lostDetails.filter((lost) => !options.acceptLoss?.(lost));
  expect(unexpected, 'acknowledged messages lost').toEqual([]);
  expect(violations, 'broken promises').toEqual([]);
  expect(outcome.acknowledged + options.sender.refused.length, 'every message answered').toBe(
    options.sender.started,
  );
  return outcome;
}
