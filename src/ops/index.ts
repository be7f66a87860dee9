// Operator services shared by the admin API and the CLI: suppression import/export, queue control,
// the stats object and message lookup. Callers pass the collaborators; nothing here connects.
export {
  CSV_HEADER,
  createImportLineParser,
  detectFormat,
  EXPORT_CONTENT_TYPES,
  formatRecord,
  parseTimestamp,
  SUPPRESSION_FORMATS,
  SUPPRESSION_REASONS,
  type ImportLineParser,
  type ParsedLine,
  type SuppressionFormat,
} from './suppression-io.js';
export {
  emptyImportReport,
  exportSuppressions,
  importSuppressions,
  MAX_REPORTED_ERROR_LINES,
  textLines,
  type ImportReport,
} from './suppressions.js';
export {
  pauseSending,
  prefixInUse,
  resumeSending,
  retryFailed,
  retryFailedJob,
  type PauseResult,
  type ResumeResult,
  type RetryOptions,
  type RetryResult,
} from './queue-control.js';
export {
  DEFAULT_STATS_DAYS,
  MAX_STATS_DAYS,
  RATE_WINDOW_DAYS,
  type DayFigures,
  type FeedbackRates,
  type GatewayStats,
  type QuotaFigures,
} from './stats.js';
export { readStats, type StatsDeps, type StatsOptions } from './stats-reader.js';
export { lookupMessage, summarizeTimeline, type JobView, type MessageView } from './message-lookup.js';
