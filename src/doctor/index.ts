// `ses-relay doctor`: checks a deployment's Redis, SES account, sender identities, configuration set
// and SNS allow-list, each verdict with the fix. The CLI builds the context and prints the report.
export { DOCTOR_CHECKS } from './checks/index.js';
export { formatReport } from './format.js';
export { runChecks, type DoctorReport } from './runner.js';
export type { CheckResult, CheckStatus, DoctorCheck, DoctorContext } from './types.js';
