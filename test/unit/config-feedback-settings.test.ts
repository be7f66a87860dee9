import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

describe('configuration: feedback settings', () => {
  it('lets a soft-bounce suppression expire after a week unless told otherwise', () => {
    expect(parseConfig({}).SOFT_BOUNCE_SUPPRESS_FOR).toBe(7 * DAY_MS);
    expect(parseConfig({ SOFT_BOUNCE_SUPPRESS_FOR: '14d' }).SOFT_BOUNCE_SUPPRESS_FOR).toBe(14 * DAY_MS);
    expect(parseConfig({ SOFT_BOUNCE_SUPPRESS_FOR: '' }).SOFT_BOUNCE_SUPPRESS_FOR).toBe(7 * DAY_MS);
  });

  it.each(['0', '0s', 'soon'])('refuses SOFT_BOUNCE_SUPPRESS_FOR=%s', (value) => {
    expect(() => parseConfig({ SOFT_BOUNCE_SUPPRESS_FOR: value })).toThrow(/SOFT_BOUNCE_SUPPRESS_FOR/);
  });

  it('refuses an SNS_DEDUPE_WINDOW shorter than the hour SNS keeps retrying, saying why', () => {
    expect(() => parseConfig({ SNS_DEDUPE_WINDOW: '30m' })).toThrow(
      /SNS_DEDUPE_WINDOW.*at least 1h.*SNS retries/s,
    );
    expect(() => parseConfig({ SNS_DEDUPE_WINDOW: '3599999' })).toThrow(/SNS_DEDUPE_WINDOW/);
    expect(parseConfig({ SNS_DEDUPE_WINDOW: '1h' }).SNS_DEDUPE_WINDOW).toBe(HOUR_MS);
    expect(parseConfig({}).SNS_DEDUPE_WINDOW).toBe(DAY_MS);
  });
});
