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
 * Records a batch of events, each for one message. For event i (ARGV from 3 on, three per event:
 * event JSON, queue id, '1' when the next key is an index key): its timeline list, then its index
 * key if it has one, in KEYS order. ARGV[1] retention ms, ARGV[2] most events kept per message.
 */
const RECORD_SCRIPT = defineScript(`
local retention, most = ARGV[1], tonumber(ARGV[2])
local k = 1
for i = 3, #ARGV, 3 do
  local timeline = KEYS[k]
  k = k + 1
  local length = redis.call('RPUSH', timeline, ARGV[i])
  if length > most then redis.call('LTRIM', timeline, -most, -1) end
  redis.call('PEXPIRE', timeline, retention)
  if ARGV[i + 2] == '1' then
    redis.call('SET', KEYS[k], ARGV[i + 1], 'PX', retention)
    k = k + 1
  end
end
return (#ARGV - 2) / 3
`);

/** Events per script call at most; a busier turn makes several calls. */
const MAX_BATCH = 200;

interface Pending {
  keys: string[];
  args: string[];
  settle: { resolve(): void; reject(err: unknown): void }[];
}

export function createTraceStore(redis: Redis, prefix: string, retentionMs: number): TraceStore {
  const timelineKey = (queueId: string) => `${prefix}:trace:${queueId}`;
  const messageIdKey = (messageId: string) => `${prefix}:trace:mid:${messageId.replace(/^<|>$/g, '')}`;
  const sesKey = (sesMessageId: string) => `${prefix}:trace:ses:${sesMessageId}`;

  // Events recorded in the same event-loop turn (many sessions finishing at once) go to Redis in
  // one script call at the end of the turn: tracing runs once per accepted message.
  let pending: Pending | undefined;

  function flush(batch: Pending): void {
    const args = [String(retentionMs), String(MAX_EVENTS), ...batch.args];
    runScript(redis, RECORD_SCRIPT, batch.keys, args).then(
      () => batch.settle.forEach((waiter) => waiter.resolve()),
      (err: unknown) => batch.settle.forEach((waiter) => waiter.reject(err)),
    );
  }

  function record(queueId: string, event: TraceEvent): Promise<void> {
    const index =
      event.type === 'accepted'
        ? messageIdKey(event.messageId)
        : event.type === 'ses-call' && event.sesMessageId
          ? sesKey(event.sesMessageId)
          : undefined;
    if (!pending) {
      const batch: Pending = { keys: [], args: [], settle: [] };
      pending = batch;
      setImmediate(() => {
        if (pending === batch) pending = undefined;
        flush(batch);
      });
    }
    const batch = pending;
    batch.keys.push(timelineKey(queueId), ...(index ? [index] : []));
    batch.args.push(JSON.stringify(event), queueId, index ? '1' : '0');
    if (batch.settle.length + 1 >= MAX_BATCH) pending = undefined;
    return new Promise((resolve, reject) => batch.settle.push({ resolve, reject }));
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
      // A timeline is a list; `ses:…` and `mid:…` name the indexes beside the timelines, no message.
      const queueId =
        ((await redis.type(timelineKey(id))) === 'list' ? id : undefined) ??
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
