// Scenario 5: a graceful rolling restart of two gateway instances under load. One instance gets
// SIGTERM (it answers 421 to new connections, finishes open transactions and in-flight SES calls,
// exits 0), is started again, then the other. The client spreads mail over both like a load
// balancer and moves to the other one on a 421 or a refused connection: nothing may be refused in
// the end, nothing lost, nothing sent twice (no process dies mid-call here).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crashLines, createChaosEnv, finishScenario, type ChaosEnv } from './helpers/harness.js';
import type { GatewayProcess } from './helpers/gateway-process.js';
import { makeMessages } from './helpers/messages.js';
import { MtaSender, sleep } from './helpers/mta-sender.js';
import { timeline } from './helpers/results.js';
import { scenarioRng } from './helpers/rng.js';

/** Slow enough that every drain finds SES calls in flight. */
const SES_LATENCY_MS = 200;
const MESSAGES = 400;
/** 8 lanes pausing this long between messages keep mail coming for ~23 s, through both restarts. */
const LANE_PAUSE_MS = 400;

describe('graceful rolling restart', () => {
  let env: ChaosEnv;
  const prefix = 'chaos-rolling';
  beforeEach(async () => {
    env = await createChaosEnv('rolling', prefix);
    env.ses.latencyMs = SES_LATENCY_MS;
  });
  afterEach(async () => {
    await env.dispose();
  });

  it('refuses, loses and duplicates nothing while two instances restart one after the other', async () => {
    const scenario = '5-rolling-restart';
    const rng = scenarioRng(scenario);
    const log = timeline();
    const startedAt = Date.now();
    const instances = ['a', 'b'].map((name) =>
      env.gateway(name, { ROLES: 'smtp,worker,http', SES_MAX_SEND_RATE: '300' }),
    );
    await Promise.all(instances.map((instance) => instance.start()));
    log.mark('instances a and b up');
    const sender = new MtaSender({
      messages: makeMessages(rng, scenario, MESSAGES),
      ports: instances.map((instance) => instance.smtpPort),
      lanes: 8,
      giveUpMs: 60_000,
      pauseMs: LANE_PAUSE_MS,
    });
    const sending = sender.run();

    const restart = async (instance: GatewayProcess) => {
      const stopAt = Date.now();
      const exit = await instance.terminate();
      log.mark(
        `${instance.name} SIGTERM → exit ${exit.code} after ${Date.now() - stopAt} ms (${sender.acked.size} acknowledged)`,
      );
      await instance.start();
      log.mark(`${instance.name} running again`);
      return exit;
    };
    await sleep(rng.int(2000, 4000));
    const exitA = await restart(instances[0]!);
    await sleep(rng.int(1500, 3000));
    const exitB = await restart(instances[1]!);
    const bothRestartedAt = Date.now();
    await sending;
    log.mark(`client done: ${sender.acked.size} acknowledged`);

    const outcome = await finishScenario({
      scenario,
      rng,
      env,
      prefix,
      sender,
      startedAt,
      events: log.events,
    });
    const lastAck = Math.max(...[...sender.acked.values()].map((ack) => ack.at));
    expect(lastAck, 'the client was still sending when both restarts were over').toBeGreaterThan(
      bothRestartedAt,
    );
    expect(exitA.code, 'a drained and exited 0').toBe(0);
    expect(exitB.code, 'b drained and exited 0').toBe(0);
    expect(sender.refused, 'finally refused messages').toEqual([]);
    expect(sender.unknownOutcomes, 'connections cut after the final dot').toBe(0);
    expect(outcome.duplicateDetails).toEqual([]);
    expect(outcome.retryCopies).toBe(0);
    for (const instance of instances) expect(crashLines(instance)).toEqual([]);
  });
});
