// Runs the checks in order. A check whose prerequisite failed is reported as skipped rather than run:
// "Redis unreachable" once is clearer than three Redis failures saying the same thing.
import { errorMessage } from '../shared/errors.js';
import type { CheckResult, CheckStatus, DoctorCheck, DoctorContext } from './types.js';

export interface DoctorReport {
  results: CheckResult[];
  counts: Record<CheckStatus, number>;
  /** False when any check failed. */
  healthy: boolean;
}

export async function runChecks(checks: readonly DoctorCheck[], ctx: DoctorContext): Promise<DoctorReport> {
  const results: CheckResult[] = [];
  const unusable = (id: string) =>
    results.some((result) => result.check === id && (result.status === 'fail' || result.status === 'skip'));
  for (const check of checks) {
    const blocker = check.needs?.find(unusable);
    if (blocker) {
      results.push({ check: check.id, status: 'skip', message: `skipped: ${blocker} did not pass` });
      continue;
    }
    try {
      results.push(...(await check.run(ctx)));
    } catch (err) {
      // A check that throws is a finding too, not a crash of the whole report.
      results.push({ check: check.id, status: 'fail', message: `check failed: ${errorMessage(err)}` });
    }
  }
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const result of results) counts[result.status]++;
  return { results, counts, healthy: counts.fail === 0 };
}
