// One table format for every benchmark's figures.
export interface BenchRow {
  bench: string;
  case: string;
  value: string;
  detail?: string;
}

export function printTable(rows: BenchRow[]): void {
  const header: BenchRow = { bench: 'bench', case: 'case', value: 'result', detail: 'detail' };
  const all = [header, ...rows];
  const width = (key: keyof BenchRow) => Math.max(...all.map((row) => (row[key] ?? '').length));
  const widths = { bench: width('bench'), case: width('case'), value: width('value') };
  const line = (row: BenchRow) =>
    `| ${row.bench.padEnd(widths.bench)} | ${row.case.padEnd(widths.case)} | ${row.value.padEnd(widths.value)} | ${row.detail ?? ''}`;
  console.log(line(header));
  console.log(
    `|${'-'.repeat(widths.bench + 2)}|${'-'.repeat(widths.case + 2)}|${'-'.repeat(widths.value + 2)}|---`,
  );
  for (const row of rows) console.log(line(row));
}
