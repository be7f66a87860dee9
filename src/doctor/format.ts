// The doctor's report for a terminal: one line per finding, its fix indented under it, a tally last.
import type { DoctorReport } from './runner.js';

export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const result of report.results) {
    lines.push(`${result.status.padEnd(4)}  ${result.check.padEnd(22)} ${result.message}`);
    if (result.fix) lines.push(`${' '.repeat(29)}fix: ${result.fix}`);
  }
  const { ok, warn, fail, skip } = report.counts;
  lines.push('');
  lines.push(`${ok} ok, ${warn} warning(s), ${fail} failure(s)${skip > 0 ? `, ${skip} skipped` : ''}`);
  return lines.join('\n');
}
