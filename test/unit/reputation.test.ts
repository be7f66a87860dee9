import { describe, expect, it } from 'vitest';
import { judgeReputation } from '../../src/queue/reputation.js';

const rates = (sent: number, bouncedHard: number, complained: number) => ({
  windowDays: 7,
  sent,
  bouncedHard,
  complained,
  bounceRate: sent === 0 ? null : bouncedHard / sent,
  complaintRate: sent === 0 ? null : complained / sent,
});

describe('reputation guard', () => {
  const settings = { windowDays: 7, minSample: 1000, pauseBounceRate: 0.08, pauseComplaintRate: 0.003 };

  it.each([
    ['healthy', rates(10_000, 100, 2), false, 0],
    ['bounce review threshold', rates(10_000, 500, 2), false, 1],
    ['complaint review threshold', rates(10_000, 100, 10), false, 1],
    ['bounce pause', rates(10_000, 800, 2), true, 1],
    ['complaint pause', rates(10_000, 100, 30), true, 1],
    ['too small a sample to pause', rates(500, 100, 30), false, 2],
    ['nothing sent', rates(0, 0, 0), false, 0],
  ])('%s', (_name, input, pause, warnings) => {
    const verdict = judgeReputation(input, settings);
    expect(verdict.pause).toBe(pause);
    expect(verdict.warnings).toHaveLength(warnings);
  });

  it('pauses under an acknowledgement only when a rate rises above the acknowledged value', () => {
    const ack = { bounceRate: 0.09, complaintRate: 0.001 };
    // 9% acknowledged at resume: the same or a lower bounce rate does not pause again.
    expect(judgeReputation(rates(10_000, 900, 2), settings, ack).pause).toBe(false);
    expect(judgeReputation(rates(12_000, 900, 2), settings, ack).pause).toBe(false);
    const risen = judgeReputation(rates(10_000, 950, 2), settings, ack);
    expect(risen).toMatchObject({ pause: true });
    expect(risen.pause && risen.reason).toBe(
      'bounce rate 9.50% reached PAUSE_BOUNCE_RATE and rose above the 9.00% acknowledged',
    );
    // A rate that was under its threshold at resume pauses as usual once it reaches it.
    expect(judgeReputation(rates(10_000, 900, 30), settings, ack).pause).toBe(true);
    // Nothing was sent in the window when it was acknowledged: any rate at the threshold pauses.
    expect(
      judgeReputation(rates(10_000, 900, 2), settings, { bounceRate: null, complaintRate: null }).pause,
    ).toBe(true);
  });

  it('never pauses without PAUSE_* settings', () => {
    expect(judgeReputation(rates(10_000, 5000, 500), { windowDays: 7, minSample: 1 }).pause).toBe(false);
  });
});
