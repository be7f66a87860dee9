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

  it('never pauses without PAUSE_* settings', () => {
    expect(judgeReputation(rates(10_000, 5000, 500), { windowDays: 7, minSample: 1 }).pause).toBe(false);
  });
});
