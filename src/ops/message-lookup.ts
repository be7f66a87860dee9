// One message as an operator asks about it: found by queue id, client Message-ID or SES MessageId,
// its timeline from the trace store, a short summary of where it stands, and the BullMQ job's state
// while the job still exists (completed and failed jobs are removed after their retention).
import type { Job, Queue } from 'bullmq';
import type { TraceEvent, TraceStore } from '../trace/trace-store.js';

export interface TimelineSummary {
  acceptedAt: number | null;
  from: string | null;
  recipients: string[];
  messageId: string | null;
  size: number | null;
  /** SES MessageIds of the chunks SES accepted, in order. */
  sesMessageIds: string[];
  /** The outcome of the last SES call, or 'queued' before any. */
  lastOutcome: string;
  /** Recipient-level SES events seen, by type (Delivery, Bounce, Complaint, …). */
  events: Record<string, number>;
  lastEventAt: number | null;
}

export interface JobView {
  id: string;
  state: string;
  attemptsMade: number;
  attempts: number | null;
  /** When the job was queued, first picked up, and finished (epoch ms). */
  timestamp: number;
  processedOn: number | null;
  finishedOn: number | null;
  failedReason: string | null;
  result: unknown;
}

export interface MessageView {
  queueId: string;
  summary: TimelineSummary;
  events: TraceEvent[];
  /** null once the job has been removed (completed or failed retention passed) or never existed. */
  job: JobView | null;
}

export function summarizeTimeline(events: TraceEvent[]): TimelineSummary {
  const summary: TimelineSummary = {
    acceptedAt: null,
    from: null,
    recipients: [],
    messageId: null,
    size: null,
    sesMessageIds: [],
    lastOutcome: 'queued',
    events: {},
    lastEventAt: null,
  };
  for (const event of events) {
    summary.lastEventAt = Math.max(summary.lastEventAt ?? 0, event.at);
    switch (event.type) {
      case 'accepted':
        Object.assign(summary, {
          acceptedAt: event.at,
          from: event.from,
          recipients: event.recipients,
          messageId: event.messageId,
          size: event.size,
        });
        break;
      case 'ses-call':
        summary.lastOutcome = event.outcome;
        if (event.sesMessageId && !summary.sesMessageIds.includes(event.sesMessageId))
          summary.sesMessageIds.push(event.sesMessageId);
        break;
      case 'failed':
        summary.lastOutcome = 'failed';
        break;
      case 'ses-event':
        summary.events[event.event] =
          (summary.events[event.event] ?? 0) + Math.max(1, event.recipients.length);
        break;
    }
  }
  return summary;
}

export function describeJob(job: Job, state: string): JobView {
  const attempts = job.opts.attempts;
  return {
    id: job.id ?? '',
    state,
    attemptsMade: job.attemptsMade,
    attempts: attempts ?? null,
    timestamp: job.timestamp,
    processedOn: job.processedOn ?? null,
    finishedOn: job.finishedOn ?? null,
    failedReason: job.failedReason || null,
    result: (job.returnvalue as unknown) ?? null,
  };
}

/**
 * The Message-ID header SES gives what it sends: its MessageId at `email.amazonses.com` (or a
 * regional `<region>.amazonses.com`), which is what a recipient's copy shows.
 */
const SES_MESSAGE_ID_HEADER = /^<?([^@<>\s]+)@(?:[a-z0-9-]+\.)*amazonses\.com>?$/i;

/** The ids to look up, in order: as given, then the SES MessageId inside an SES Message-ID header. */
export function lookupIds(id: string): string[] {
  const given = id.trim();
  const sesMessageId = SES_MESSAGE_ID_HEADER.exec(given)?.[1];
  return sesMessageId ? [given, sesMessageId] : [given];
}

/** Undefined when no timeline is known for the id (never seen, or past TRACE_RETENTION). */
export async function lookupMessage(
  deps: { trace: TraceStore; queue: Queue },
  id: string,
): Promise<MessageView | undefined> {
  let timeline: Awaited<ReturnType<TraceStore['lookup']>>;
  // A client's own Message-ID may end in amazonses.com too: the id as given is tried first.
  for (const candidate of lookupIds(id)) {
    timeline = await deps.trace.lookup(candidate);
    if (timeline) break;
  }
  if (!timeline) return undefined;
  // The producer uses the queue id as the BullMQ job id.
  const job = await deps.queue.getJob(timeline.queueId);
  const state = job ? await job.getState() : undefined;
  return {
    queueId: timeline.queueId,
    summary: summarizeTimeline(timeline.events),
    events: timeline.events,
    job: job && state && state !== 'unknown' ? describeJob(job, state) : null,
  };
}
