// `npm run bench`: runs every benchmark (or those named: npm run bench -- intake webhook) and prints
// one table. Each benchmark starts its own private redis-server and stops everything it started.
import { runEndToEndBench } from './end-to-end.js';
import { runIntakeBench } from './intake.js';
import { runPacingBench } from './pacing.js';
import { runSuppressionBench } from './suppression.js';
import { printTable, type BenchRow } from './table.js';
import { runWebhookBench } from './webhook.js';

async function pacingRows(): Promise<BenchRow[]> {
  const rows = await runPacingBench();
  return rows.map((row) => ({
    bench: 'pacing',
    case: `${row.targetPerSecond} recipients/s, fake SES 50 ms`,
    value: `${row.achievedPercent.toFixed(1)}% achieved`,
    detail: `max ${row.maxInAnySecond} in any sliding 1 s, ${row.secondsOverRate} windows over, ${row.senders} senders`,
  }));
}

const BENCHES: Record<string, () => Promise<BenchRow[]>> = {
  intake: runIntakeBench,
  'end-to-end': runEndToEndBench,
  webhook: runWebhookBench,
  suppression: () => runSuppressionBench(),
  pacing: pacingRows,
};

const wanted = process.argv.slice(2);
const rows: BenchRow[] = [];
for (const [name, run] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stderr.write(`running ${name} …\n`);
  rows.push(...(await run()));
}
printTable(rows);
process.exit(0);
