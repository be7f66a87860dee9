// The HTTP role: health and readiness now; the SNS webhook, admin API and metrics mount here.
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../http/server.js';
import { createSendingHolds } from '../queue/holds.js';
import { createOutboundQueue } from '../queue/outbound.js';
import type { RoleContext, RunningRole } from './context.js';

export interface HttpRole extends RunningRole {
  address: AddressInfo;
}

export async function startHttpRole(ctx: RoleContext): Promise<HttpRole> {
  const { config, logger, keys } = ctx;
  const redis = ctx.connect('command', 'http');
  const queue = createOutboundQueue({
    connection: redis,
    keys,
    retry: ctx.retry,
    completedRetentionMs: config.COMPLETED_JOB_RETENTION,
    failedRetentionMs: config.FAILED_JOB_RETENTION,
    logger,
  });
  const holds = createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
  const server = createHttpServer({
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    logger,
    async readiness() {
      const problems: string[] = [];
      const pong = await redis.ping().catch(() => 'unreachable');
      if (pong !== 'PONG') problems.push('redis: unreachable');
      const hold = await holds.current().catch(() => undefined);
      if (hold) problems.push(`sending on hold since ${new Date(hold.since).toISOString()}: ${hold.reason}`);
      return problems;
    },
  });
  const address = await server.start();
  return {
    address,
    async stop() {
      await server.stop();
      await queue.close().catch(() => undefined);
    },
  };
}
