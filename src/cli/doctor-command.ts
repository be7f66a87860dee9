// `ses-relay doctor`: builds the checks' context from the gateway's configuration and prints the
// report; exit 1 when any check failed, so a deploy pipeline can gate on it.
import { DOCTOR_CHECKS, formatReport, runChecks, type DoctorContext } from '../doctor/index.js';
import { readRedisNodes } from '../doctor/redis-nodes.js';
import type { RedisNodeFacts } from '../doctor/types.js';
import { type CliRuntime, EXIT_FAILED, EXIT_OK } from './runtime.js';
import { out, printJson } from './output.js';

export async function runDoctor(rt: CliRuntime, json?: boolean): Promise<number> {
  let nodes: Promise<RedisNodeFacts[]> | undefined;
  const ctx: DoctorContext = {
    config: rt.config,
    redisNodes: () => (nodes ??= readRedisNodes(rt.redis(), rt.config.REDIS_URL)),
    ses: rt.ses(),
    snsTopicArns: rt.config.SNS_TOPIC_ARNS,
  };
  const report = await runChecks(DOCTOR_CHECKS, ctx);
  if (json) printJson(report);
  else out(formatReport(report));
  return report.healthy ? EXIT_OK : EXIT_FAILED;
}
