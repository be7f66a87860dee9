// Per-scenario results: printed as each scenario ends and appended to a JSON-lines file that the
// global teardown turns into the suite's summary table (with the suite's wall time).
import fs from 'node:fs';
import { inject } from 'vitest';
import type { Reconciliation } from './reconcile.js';
import type { MtaSender } from './mta-sender.js';

declare module 'vitest' {
  export interface ProvidedContext {
    chaosResultsFile: string;
  }
}

export interface ScenarioResult extends Omit<Reconciliation, 'lostDetails' | 'violations'> {
  scenario: string;
  seed: number;
  wallMs: number;
  smtp: {
    temporary: Record<string, number>;
    refused: number;
    unknownOutcomes: number;
  };
  events: string[];
  notes: string[];
}

export function smtpSummary(sender: MtaSender): ScenarioResult['smtp'] {
  return {
    temporary: Object.fromEntries([...sender.temporary].sort((a, b) => b[1] - a[1])),
    refused: sender.refused.length,
    unknownOutcomes: sender.unknownOutcomes,
  };
}

export function recordResult(result: ScenarioResult): void {
  const line = [
    `[chaos] ${result.scenario} (seed ${result.seed}): ${(result.wallMs / 1000).toFixed(1)} s`,
    `acknowledged=${result.acknowledged} delivered=${result.delivered} failed=${result.failed} (partly sent: ${result.failedPartly})`,
    `lost=${result.lost} duplicates=${result.duplicates} retryCopies=${result.retryCopies}`,
    `ses calls=${result.sesCalls} accepted=${result.sesAccepted}`,
    `smtp temp=${JSON.stringify(result.smtp.temporary)} refused=${result.smtp.refused}`,
    ...(result.failed > 0 ? [`failedReasons=${JSON.stringify(result.failedReasons)}`] : []),
    ...(result.duplicateDetails.length > 0 ? [`dups=${JSON.stringify(result.duplicateDetails)}`] : []),
    ...(result.retryCopies > 0 ? [`retryCopies=${JSON.stringify(result.retryCopyDetails)}`] : []),
    ...(result.events.length > 0 ? [`events: ${result.events.join('; ')}`] : []),
    ...result.notes.map((note) => `note: ${note}`),
  ].join('\n  ');
  console.log(line);
  fs.appendFileSync(inject('chaosResultsFile'), `${JSON.stringify(result)}\n`);
}

/** A stopwatch for a scenario's timeline: "12.3s kill -9 gw" entries. */
export function timeline(): { mark(event: string): void; events: string[]; elapsedMs(): number } {
  const startedAt = Date.now();
  const events: string[] = [];
  return {
    events,
    mark(event) {
      events.push(`${((Date.now() - startedAt) / 1000).toFixed(1)}s ${event}`);
    },
    elapsedMs: () => Date.now() - startedAt,
  };
}
