// Scenario 3: SES misbehaves while mail keeps arriving. A 60 s run of 5xx answers, a throttling
// storm (429) and a slow SES (5 s per call) must each end with every acknowledged message delivered
// once: a 5xx and a 429 are answers SES gives without sending, so no fault here may duplicate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import type { SesErrorReply } from '../helpers/fake-ses.js';
import { crashLines, createChaosEnv, finishScenario, type ChaosEnv } from './helpers/harness.js';
import { makeMessages } from './helpers/messages.js';
import { MtaSender, sleep } from './helpers/mta-sender.js';
import { timeline } from './helpers/results.js';
import { scenarioRng } from './helpers/rng.js';

const MESSAGES = 300;
/** The figure, not shortened. */
const SERVER_ERROR_MS = 60_000;
const THROTTLE_STORM_MS = 20_000;
const SLOW_SES_MS = 5_000;

const SERVER_ERRORS: SesErrorReply[] = [
  {
    status: 500,
    type: 'InternalFailure',
    message: 'The request processing has failed because of an unknown error.',
  },
  { status: 503, type: 'ServiceUnavailable', message: 'Service Unavailable' },
];
const THROTTLED: SesErrorReply = {
  status: 429,
  type: 'TooManyRequestsException',
  message: 'Maximum sending rate exceeded.',
};

describe('SES faults', () => {
  let env: ChaosEnv;
  const prefix = 'chaos-ses';
  beforeEach(async () => {
    env = await createChaosEnv('ses', prefix);
    env.ses.latencyMs = 20;
  });
  afterEach(async () => {
    await env.dispose();
  });

  it('delivers everything once after SES answered 5xx for 60 s', async () => {
    const scenario = '3a-ses-5xx-60s';
    const rng = scenarioRng(scenario);
    const log = timeline();
    const startedAt = Date.now();
    // Retry timing scaled down from the defaults (2 s … 15 min) but, like them, outlasting the
    // outage: with SEND_MAX_ATTEMPTS unset, a message keeps retrying until QUEUE_MAX_AGE.
    const gateway = env.gateway('all', {
      ROLES: 'smtp,worker,http',
      SEND_RETRY_BASE: '500ms',
      SEND_RETRY_MAX: '8s',
    });
    await gateway.start();
    const sender = new MtaSender({
      messages: makeMessages(rng, scenario, MESSAGES),
      ports: [gateway.smtpPort],
      lanes: 6,
      giveUpMs: 60_000,
    });
    const sending = sender.run();
    await waitFor(() => sender.acked.size >= rng.int(30, 100), { timeoutMs: 30_000, what: 'intake' });
    const until = Date.now() + SERVER_ERROR_MS;
    let refusedCalls = 0;
    env.ses.onSend((_send, index) => {
      if (Date.now() >= until) return undefined;
      refusedCalls++;
      return SERVER_ERRORS[index % SERVER_ERRORS.length];
    });
    log.mark(`SES answers 5xx (${sender.acked.size} acknowledged, ${env.ses.sends.length} sent)`);
    await sending;
    log.mark(`intake done: ${sender.acked.size} acknowledged`);
    await sleep(Math.max(0, until - Date.now()));
    log.mark(`SES healthy again after ${refusedCalls} calls answered 5xx`);

    const outcome = await finishScenario({
      scenario,
      rng,
      env,
      prefix,
      sender,
      startedAt,
      events: log.events,
    });
    expect(refusedCalls).toBeGreaterThan(0);
    expect(outcome.failed, 'no message may exhaust its attempts within the outage').toBe(0);
    expect(outcome.duplicateDetails).toEqual([]);
    expect(sender.refused).toEqual([]);
    expect(crashLines(gateway)).toEqual([]);
  });

  it('delivers everything once through a 20 s throttling storm', async () => {
    const scenario = '3b-ses-throttling-storm';
    const rng = scenarioRng(scenario);
    const log = timeline();
    const startedAt = Date.now();
    const gateway = env.gateway('all', { ROLES: 'smtp,worker,http' });
    await gateway.start();
    const sender = new MtaSender({
      messages: makeMessages(rng, scenario, MESSAGES),
      ports: [gateway.smtpPort],
      lanes: 6,
      giveUpMs: 60_000,
    });
    const sending = sender.run();
    await waitFor(() => sender.acked.size >= rng.int(30, 100), { timeoutMs: 30_000, what: 'intake' });
    const until = Date.now() + THROTTLE_STORM_MS;
    let throttledCalls = 0;
    env.ses.onSend(() => {
      if (Date.now() >= until) return undefined;
      throttledCalls++;
      return THROTTLED;
    });
    log.mark(`SES throttles (${sender.acked.size} acknowledged)`);
    await sending;
    await sleep(Math.max(0, until - Date.now()));
    log.mark(`storm over after ${throttledCalls} throttled calls`);
    await waitFor(() => env.ses.sends.some((send) => send.at >= until), {
      timeoutMs: 60_000,
      what: 'the first send after the storm',
    });
    const firstAfter = Math.min(...env.ses.sends.filter((send) => send.at >= until).map((send) => send.at));
    log.mark(`first send after the storm: ${((firstAfter - until) / 1000).toFixed(1)} s after it ended`);

    const outcome = await finishScenario({
      scenario,
      rng,
      env,
      prefix,
      sender,
      startedAt,
      events: log.events,
    });
    expect(throttledCalls).toBeGreaterThan(0);
    expect(outcome.failed, 'throttling never uses up attempts').toBe(0);
    expect(outcome.duplicateDetails).toEqual([]);
    expect(sender.refused).toEqual([]);
    expect(crashLines(gateway)).toEqual([]);
  });

  it('delivers everything once when every SES call takes 5 s, and intake stays fast', async () => {
    const scenario = '3c-ses-slow-5s';
    const rng = scenarioRng(scenario);
    const log = timeline();
    const startedAt = Date.now();
    env.ses.latencyMs = SLOW_SES_MS;
    const gateway = env.gateway('all', { ROLES: 'smtp,worker,http' });
    await gateway.start();
    const sender = new MtaSender({
      messages: makeMessages(rng, scenario, MESSAGES),
      ports: [gateway.smtpPort],
      lanes: 6,
      giveUpMs: 60_000,
    });
    const intakeStarted = Date.now();
    await sender.run();
    const intakeMs = Date.now() - intakeStarted;
    log.mark(`intake done in ${(intakeMs / 1000).toFixed(1)} s while SES takes 5 s per call`);

    const outcome = await finishScenario({
      scenario,
      rng,
      env,
      prefix,
      sender,
      startedAt,
      events: log.events,
      settleTimeoutMs: 80_000,
    });
    // A slow SES must not back up into SMTP: intake does not wait for delivery.
    expect(intakeMs).toBeLessThan(20_000);
    expect(sender.temporaryTotal).toBe(0);
    expect(outcome.duplicateDetails).toEqual([]);
    expect(sender.refused).toEqual([]);
    expect(crashLines(gateway)).toEqual([]);
  });
});
