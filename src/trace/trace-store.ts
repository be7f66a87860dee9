// Message tracing: the timeline of one message — accepted (client, user, envelope, size), each SES
// call (MessageId, outcome, error) and the SES events that came back (delivery, bounce, complaint,
// delay) — findable by queue id, by the client's Message-ID or by an SES MessageId. Records expire
// after TRACE_RETENTION.
//
// Keys: `<prefix>:trace:<queueId>` is a list of JSON events; `<prefix>:trace:mid:<Message-ID>` and
// `<prefix>:trace:ses:<SES MessageId>` point at the queue id. Each write touches one message's keys.
import type { Redis } from 'ioredis';
import { defineScript, runScript } from '../shared/lua.js';

export type TraceEvent =
  | {
      type: 'accepted';
      at: number;
      clientIp: string;
      user?: string | undefined;
      from: string;
      recipients: string[];
      size: number;
      messageId: string;
    }
  | {
      type: 'ses-call';
      at: number;
      outcome: string;
      sesMessageId?: string;
      recipients: number;
      chunk: number;
      error?: string;
    }
  | { type: 'failed'; at: number; reason: string }
  | {
      type: 'ses-event';
      at: number;
      event: string;
      sesMessageId: string;
      recipients: string[];
      detail?: string;
    };

export interface Timeline {
  queueId: string;
  events: TraceEvent[];
}

export interface TraceStore {
  record(queueId: string, event: TraceEvent): Promise<void>;
  /** Points an SES MessageId at its queue id (done with the SES call's record). */
  recordSesEvent(
    sesMessageId: string,
    event: Omit<Extract<TraceEvent, { type: 'ses-event' }>, 'sesMessageId'>,
  ): Promise<boolean>;
  /** Finds a timeline by queue id, client Message-ID or SES MessageId. */
  lookup(id: string): Promise<Timeline | undefined>;
}

/** Cap on events per message: a message retried for days should not grow without bound. */
const MAX_EVENTS = 200;

/*
 * KEYS[1] the timeline list; KEYS[2] (optional) an index key to point at the queue id
 * ARGV[1] event JSON, ARGV[2] retention ms, ARGV[3] most events kept, ARGV[4] queue id
 */
const RECORD_SCRIPT = defineScript(`
local length = redis.call('RPUSH', KEYS[1], ARGV[1])
if length > tonumber(ARGV[3]) then redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2]) end
return length
`);

export function createTraceStore(redis: Redis, prefix: string, retentionMs: number): TraceStore {
  const timelineKey = (queueId: string) => `${prefix}:trace:${queueId}`;
  const messageIdKey = (messageId: string) => `${prefix}:trace:mid:${messageId.replace(/^<|>$/g, '')}`;
  const sesKey = (sesMessageId: string) => `${prefix}:trace:ses:${sesMessageId}`;

  async function record(queueId: string, event: TraceEvent): Promise<void> {
    // One script call instead of a MULTI of four commands: tracing runs once per accepted message.
    const index =
      event.type === 'accepted'
        ? messageIdKey(event.messageId)
        : event.type === 'ses-call' && event.sesMessageId
          ? sesKey(event.sesMessageId)
          : undefined;
    await runScript(redis, RECORD_SCRIPT, index ? [timelineKey(queueId), index] : [timelineKey(queueId)], [
      JSON.stringify(event),
      retentionMs,
      MAX_EVENTS,
      queueId,
    ]);
  }

  return {
    record,
    async recordSesEvent(sesMessageId, event) {
      const queueId = await redis.get(sesKey(sesMessageId));
      if (!queueId) return false;
      await record(queueId, { ...event, sesMessageId });
      return true;
    },
    async lookup(id) {
      const queueId =
        ((await redis.exists(timelineKey(id))) ? id : undefined) ??
        (await redis.get(sesKey(id))) ??
        (await redis.get(messageIdKey(id))) ??
        undefined;
      if (!queueId) return undefined;
      const raw = await redis.lrange(timelineKey(queueId), 0, -1);
      if (raw.length === 0) return undefined;
      return { queueId, events: raw.map((line) => JSON.parse(line) as TraceEvent) };
    },
  };
}
