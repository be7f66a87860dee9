// `npm run bench`: runs every benchmark (or those named: npm run bench -- intake) and prints one table.
import { runIntakeBench } from './intake.js';
import { printTable, type BenchRow } from './table.js';

const BENCHES: Record<string, () => Promise<BenchRow[]>> = {
  intake: runIntakeBench,
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
