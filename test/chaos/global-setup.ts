// Times the whole chaos suite and prints one summary table of every scenario at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type { ScenarioResult } from './helpers/results.js';

export default function setup(project: TestProject): () => void {
  const startedAt = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-chaos-results-'));
  const file = path.join(dir, 'results.jsonl');
  fs.writeFileSync(file, '');
  project.provide('chaosResultsFile', file);
  return () => {
    const results = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ScenarioResult);
    const rows = results.map((r) => ({
      scenario: r.scenario,
      seconds: Number((r.wallMs / 1000).toFixed(1)),
      acknowledged: r.acknowledged,
      delivered: r.delivered,
      failed: r.failed,
      lost: r.lost,
      duplicates: r.duplicates,
      retryCopies: r.retryCopies,
      refused: r.smtp.refused,
    }));
    console.log('\n[chaos] summary');
    console.table(rows);
    console.log(`[chaos] suite wall time: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
