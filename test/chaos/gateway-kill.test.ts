// Scenario 1: kill -9 of gateway processes at seeded moments during intake and during sending,
// each restarted at once. A 250 is a promise: nothing acknowledged may be lost. Duplicates are
// possible only for an SES call in flight at the kill (SES accepted it, the chunk record was never
// written); each one must fall in such a window.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import type { GatewayProcess } from './helpers/gateway-process.js';
import { chunkCount, killAndRestart, waitForSends, type FaultLog } from './helpers/faults.js';
import {
  crashLines,
  createChaosEnv,
  explainDuplicates,
  finishScenario,
  type ChaosEnv,
} from './helpers/harness.js';
import { makeMessages } from './helpers/messages.js';
import { MtaSender, sleep } from './helpers/mta-sender.js';
import { timeline } from './helpers/results.js';
import { scenarioRng, type Rng } from './helpers/rng.js';

/** Realistic SES latency: long enough that a kill always finds calls in flight. */
const SES_LATENCY_MS = 50;
const MESSAGES = 300;
/** 6 sessions with a short pause between messages: intake lasts ~7 s, long enough to kill it twice. */
const TRAFFIC = { lanes: 6, pauseMs: 100, giveUpMs: 60_000 };
/**
 * Recipients per second, slow enough that sending outlasts intake, so there is a "during sending"
 * to kill in (lower with split roles: there an SMTP kill does not stop the workers).
 */
const SEND_RATE_ALL_ROLES = '200';
const SEND_RATE_SPLIT_ROLES = '150';

/**
 * BullMQ fails a job that was active during more stalls than maxStalledCount (1 by default): with
 * two kills a few seconds apart, a message taken up again after the first can be active at the
 * second. Reported as a gateway issue; any other reason for failing is a bug here.
 */
const STALLED_TWICE = 'job stalled more than allowable limit';

function unexpectedFailures(reasons: Record<string, number>): string[] {
  return Object.keys(reasons).filter((reason) => reason !== STALLED_TWICE);
}

function expectKillsInBothPhases(events: string[]): void {
  expect(
    events.some((event) => event.includes('(during intake')),
    'a kill during intake',
  ).toBe(true);
  expect(
    events.some((event) => event.includes('(during sending')),
    'a kill during sending',
  ).toBe(true);
}

function faultLog(): FaultLog & ReturnType<typeof timeline> {
  return { ...timeline(), windows: [] };
}

/** Kills during intake, each after a seeded number of further 250s plus a seeded delay. */
async function killDuringIntake(
  sender: MtaSender,
  rng: Rng,
  log: FaultLog,
  round: { gateways: GatewayProcess[]; runsWorker: boolean },
  times: number,
): Promise<void> {
  for (let i = 0; i < times; i++) {
    const target = sender.acked.size + rng.int(40, 90);
    await waitFor(() => sender.acked.size >= target || sender.finished, {
      timeoutMs: 60_000,
      what: 'intake',
    });
    if (sender.finished) {
      log.mark(`intake ended before ${target} acknowledgements: kill skipped`);
      return;
    }
    // Not right at an acknowledgement: somewhere inside the following transactions.
    await sleep(rng.int(0, 300));
    await killAndRestart(round.gateways, log, {
      why: `during intake, ${sender.acked.size} acknowledged`,
      runsWorker: round.runsWorker,
      sesLatencyMs: SES_LATENCY_MS,
    });
  }
}

/** Kills during sending, each once a seeded share of the remaining SES calls has gone out. */
async function killDuringSending(
  env: ChaosEnv,
  rng: Rng,
  log: FaultLog,
  total: number,
  rounds: { gateways: GatewayProcess[]; runsWorker: boolean }[],
): Promise<void> {
  for (const round of rounds) {
    const sent = env.ses.sends.length;
    const target = sent + Math.floor((total - sent) * (0.15 + rng.next() * 0.35));
    if (!(await waitForSends(env.ses, target, 30_000))) {
      log.mark(`sending ended before ${target} sends: kill skipped`);
      continue;
    }
    await killAndRestart(round.gateways, log, {
      why: `during sending, ${env.ses.sends.length}/${total} SES calls done`,
      runsWorker: round.runsWorker,
      sesLatencyMs: SES_LATENCY_MS,
    });
  }
}

describe('kill -9 of gateway processes', () => {
  let env: ChaosEnv;
  const prefix = 'chaos-kill';
  beforeEach(async () => {
    env = await createChaosEnv('kill', prefix);
    env.ses.latencyMs = SES_LATENCY_MS;
  });
  afterEach(async () => {
    await env.dispose();
  });

  it('loses no acknowledged message when the all-roles process is killed during intake and sending', async () => {
    const scenario = '1a-kill-all-roles';
    const rng = scenarioRng(scenario);
    const log = faultLog();
    const startedAt = Date.now();
    const gateway = env.gateway('all', { ROLES: 'smtp,worker,http', SES_MAX_SEND_RATE: SEND_RATE_ALL_ROLES });
    await gateway.start();
    log.mark('gateway up');
    const messages = makeMessages(rng, scenario, MESSAGES);
    const sender = new MtaSender({ ...TRAFFIC, messages, ports: [gateway.smtpPort] });
    const sending = sender.run();
    await killDuringIntake(sender, rng, log, { gateways: [gateway], runsWorker: true }, 2);
    await sending;
    log.mark(`intake done: ${sender.acked.size} acknowledged`);
    const total = chunkCount(messages);
    await killDuringSending(env, rng, log, total, [
      { gateways: [gateway], runsWorker: true },
      { gateways: [gateway], runsWorker: true },
    ]);

    const outcome = await finishScenario({
      scenario,
      rng,
      env,
      prefix,
      sender,
      startedAt,
      events: log.events,
    });
    const { unexplained, explained } = explainDuplicates(outcome.duplicateDetails, log.windows);
    console.log(`[chaos] ${scenario} duplicates by cause: ${JSON.stringify(explained)}`);
    expect(unexplained, 'duplicates outside any kill window').toEqual([]);
    expect(unexpectedFailures(outcome.failedReasons)).toEqual([]);
    expectKillsInBothPhases(log.events);
    expect(sender.refused).toEqual([]);
    expect(crashLines(gateway)).toEqual([]);
  });

  it('loses no acknowledged message when smtp-only and worker-only processes are killed separately', async () => {
    const scenario = '1b-kill-split-roles';
    const rng = scenarioRng(scenario);
    const log = faultLog();
    const startedAt = Date.now();
    const smtp = env.gateway('smtp', { ROLES: 'smtp' });
    const workers = [1, 2].map((n) =>
      env.gateway(`worker-${n}`, { ROLES: 'worker', SES_MAX_SEND_RATE: SEND_RATE_SPLIT_ROLES }),
    );
    await Promise.all([smtp, ...workers].map((gateway) => gateway.start()));
    log.mark('smtp + 2 workers up');
    const messages = makeMessages(rng, scenario, MESSAGES);
    const sender = new MtaSender({ ...TRAFFIC, messages, ports: [smtp.smtpPort] });
    const sending = sender.run();
    await killDuringIntake(sender, rng, log, { gateways: [smtp], runsWorker: false }, 2);
    await sending;
    log.mark(`intake done: ${sender.acked.size} acknowledged`);
    await killDuringSending(env, rng, log, chunkCount(messages), [
      { gateways: [workers[0]!], runsWorker: true },
      { gateways: [workers[1]!], runsWorker: true },
      { gateways: workers, runsWorker: true },
    ]);

    const outcome = await finishScenario({
      scenario,
      rng,
      env,
      prefix,
      sender,
      startedAt,
      events: log.events,
    });
    const { unexplained, explained } = explainDuplicates(outcome.duplicateDetails, log.windows);
    console.log(`[chaos] ${scenario} duplicates by cause: ${JSON.stringify(explained)}`);
    expect(unexplained, 'duplicates outside any kill window').toEqual([]);
    expect(unexpectedFailures(outcome.failedReasons)).toEqual([]);
    expectKillsInBothPhases(log.events);
    expect(sender.refused).toEqual([]);
    for (const gateway of [smtp, ...workers]) expect(crashLines(gateway)).toEqual([]);
  });
});
