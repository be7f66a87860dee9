// The reputation guard's state in Redis: one hash (keys.reputation) shared by the guards of every
// worker and read by the operators' views.
//   reading  — the last check: window, rates, thresholds (JSON), for `queue stats` and the admin API;
//   pausedAt — set while a hold the guard started may still be in force;
//   ack      — the rates an operator accepted by lifting the guard's hold (JSON; see reputation.ts).
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { FeedbackRates } from '../ops/stats.js';
import { execPipeline } from '../shared/redis-exec.js';

/** The rates in force when an operator lifted the guard's hold; the guard pauses again only above them. */
export interface Acknowledgement {
  bounceRate: number | null;
  complaintRate: number | null;
  at: number;
  /** After this the acknowledgement lapses: the window then holds only mail sent after it. */
  until: number;
}

export interface ReputationReading extends FeedbackRates {
  pauseBounceRate: number | null;
  pauseComplaintRate: number | null;
  minSample: number;
  at: number;
  acknowledged: Acknowledgement | null;
}

export interface ReputationStateRecord {
  pausedAt: number | undefined;
  ack: Acknowledgement | undefined;
}

const ackSchema = z.object({
  bounceRate: z.number().nullable(),
  complaintRate: z.number().nullable(),
  at: z.number(),
  until: z.number(),
});

const readingSchema = z.object({
  windowDays: z.number(),
  sent: z.number(),
  bouncedHard: z.number(),
  complained: z.number(),
  bounceRate: z.number().nullable(),
  complaintRate: z.number().nullable(),
  pauseBounceRate: z.number().nullable(),
  pauseComplaintRate: z.number().nullable(),
  minSample: z.number(),
  at: z.number(),
  acknowledged: ackSchema.nullable(),
});

function parseJson<T>(schema: z.ZodType<T>, raw: string | null | undefined): T | undefined {
  if (!raw) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the published reading defensively: a worker of another version may have written it. */
export function parseReputationReading(raw: string | null | undefined): ReputationReading | null {
  return parseJson(readingSchema, raw) ?? null;
}

export function createReputationState(redis: Redis, key: string) {
  return {
    async read(): Promise<ReputationStateRecord> {
      const [pausedAt, ack] = await redis.hmget(key, 'pausedAt', 'ack');
      return { pausedAt: pausedAt ? Number(pausedAt) : undefined, ack: parseJson(ackSchema, ack) };
    },
    /** The guard's hold is in force (kept if already set: it dates the hold's start). */
    async markPaused(at: number): Promise<void> {
      await redis.hsetnx(key, 'pausedAt', String(at));
    },
    /** An operator lifted the guard's hold: these rates are accepted until `ack.until`. */
    async acknowledge(ack: Acknowledgement): Promise<void> {
      await execPipeline(redis.multi().hdel(key, 'pausedAt').hset(key, 'ack', JSON.stringify(ack)));
    },
    async clearAcknowledgement(): Promise<void> {
      await redis.hdel(key, 'ack');
    },
    async publish(reading: ReputationReading): Promise<void> {
      await redis.hset(key, 'reading', JSON.stringify(reading));
    },
  };
}

export type ReputationState = ReturnType<typeof createReputationState>;
