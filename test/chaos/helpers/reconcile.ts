// Reconciliation after a chaos run: every message the gateway answered 250 for must have reached
// SES exactly once per recipient chunk, or be in BullMQ's failed set with a reason. Read from the
// two independent records: BullMQ's jobs (state, returnvalue.sesMessageIds, failedReason) and the
// fake SES's log of accepted requests, matched by the queue id in the gateway-added Message-ID.
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { SES_MAX_RECIPIENTS_PER_CALL } from '../../../src/ses/chunks.js';
import type { FakeSes, RecordedSend } from '../../helpers/fake-ses.js';
import { identify } from './messages.js';
import type { Ack, MtaSender } from './mta-sender.js';
import { sleep } from './mta-sender.js';

/** After the queue looks idle, SES must stay quiet this long: a zombie attempt could still send. */
const QUIET_MS = 1_500;
const UNSETTLED_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

export interface Duplicate {
  marker: string;
  queueId: string;
  chunk: number;
  times: number;
  /** When SES accepted the first copy (epoch ms): the call whose answer the gateway never recorded. */
  firstAt: number;
  /** Arrival times at SES, ms since the first. */
  gapsMs: number[];
}

export interface Lost {
  marker: string;
  queueId: string;
  /** When the client got its 250. */
  ackedAt: number;
  detail: string;
}

export interface Reconciliation {
  acknowledged: number;
  delivered: number;
  failed: number;
  failedReasons: Record<string, number>;
  /** Failed messages of which some chunks had reached SES already (a part of the recipients got it). */
  failedPartly: number;
  lost: number;
  lostDetails: Lost[];
  /** Extra SES requests for a (queue id, chunk) that had reached SES already. */
  duplicates: number;
  duplicateDetails: Duplicate[];
  /** Queue ids the client never saw (the 250 was lost with the connection) that still went out. */
  retryCopies: number;
  /** Each such copy, and the queue id the client's retry was acknowledged with. */
  retryCopyDetails: { marker: string; queueId: string; acknowledgedAs: string | undefined }[];
  sesAccepted: number;
  sesCalls: number;
  /** Broken promises other than loss: Bcc header leaked, chunk over 50, ids that do not match. */
  violations: string[];
}

export interface ReconcileOptions {
  redisUrl: string;
  prefix: string;
  ses: FakeSes;
  sender: MtaSender;
  settleTimeoutMs: number;
}

function chunkKey(recipients: readonly string[]): string {
  return [...recipients].sort().join(',');
}

/** Expected chunks of an envelope: consecutive runs of at most 50, as SES's per-call limit requires. */
function expectedChunks(recipients: readonly string[]): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < recipients.length; i += SES_MAX_RECIPIENTS_PER_CALL)
    chunks.push(recipients.slice(i, i + SES_MAX_RECIPIENTS_PER_CALL));
  return chunks;
}

async function waitUntilSettled(
  queue: Queue,
  ses: FakeSes,
  queueIds: string[],
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let why = '';
  while (Date.now() < deadline) {
    const counts = await queue.getJobCounts(...UNSETTLED_STATES);
    const busy = Object.values(counts).reduce((sum, n) => sum + n, 0);
    if (busy === 0) {
      const states = await Promise.all(queueIds.map((id) => queue.getJobState(id)));
      const open = states.filter((state) => state !== 'completed' && state !== 'failed').length;
      if (open === 0) {
        const sends = ses.sends.length;
        await sleep(QUIET_MS);
        if (ses.sends.length === sends) return undefined;
        why = 'SES still receiving';
        continue;
      }
      why = `${open} acknowledged jobs neither completed nor failed`;
    } else why = `queue busy: ${JSON.stringify(counts)}`;
    await sleep(250);
  }
  return why;
}

/** One request SES accepted, with the X-Test-Id it carried. */
type SesCopy = { send: RecordedSend; marker?: string };

function groupSends(sends: readonly RecordedSend[], violations: string[]): Map<string, SesCopy[]> {
  const byQueueId = new Map<string, SesCopy[]>();
  for (const send of sends) {
    const { marker, queueId, hasBcc } = identify(send.raw);
    if (!queueId) {
      violations.push(`SES request ${send.messageId} has no gateway Message-ID`);
      continue;
    }
    if (hasBcc) violations.push(`Bcc header reached SES in ${queueId} (${marker})`);
    const count = send.to.length + send.cc.length + send.bcc.length;
    if (count > SES_MAX_RECIPIENTS_PER_CALL) violations.push(`${queueId}: ${count} recipients in one call`);
    const list = byQueueId.get(queueId) ?? [];
    list.push({ send, marker });
    byQueueId.set(queueId, list);
  }
  return byQueueId;
}

function emptyResult(acknowledged: number, ses: FakeSes, violations: string[]): Reconciliation {
  return {
    acknowledged,
    delivered: 0,
    failed: 0,
    failedReasons: {},
    failedPartly: 0,
    lost: 0,
    lostDetails: [],
    duplicates: 0,
    duplicateDetails: [],
    retryCopies: 0,
    retryCopyDetails: [],
    sesAccepted: ses.sends.length,
    sesCalls: ses.calls,
    violations,
  };
}

/** The SES requests of one acknowledged message, by chunk; duplicates and foreign ones noted. */
function matchChunks(ack: Ack, sends: SesCopy[], result: Reconciliation): Map<string, RecordedSend[]> {
  for (const { marker } of sends)
    if (marker !== ack.marker)
      result.violations.push(`${ack.queueId}: SES got marker ${marker}, not ${ack.marker}`);
  const chunks = expectedChunks(ack.recipients);
  const seen = new Map<string, RecordedSend[]>();
  for (const { send } of sends) seen.set(chunkKey(send.to), [...(seen.get(chunkKey(send.to)) ?? []), send]);
  chunks.forEach((chunk, index) => {
    const arrivals = seen.get(chunkKey(chunk)) ?? [];
    if (arrivals.length < 2) return;
    result.duplicates += arrivals.length - 1;
    result.duplicateDetails.push({
      marker: ack.marker,
      queueId: ack.queueId,
      chunk: index,
      times: arrivals.length,
      firstAt: arrivals[0]!.at,
      gapsMs: arrivals.map((send) => send.at - arrivals[0]!.at),
    });
  });
  if ([...seen.keys()].some((key) => !chunks.some((chunk) => chunkKey(chunk) === key)))
    result.violations.push(`${ack.queueId}: SES got recipient sets not cut from the envelope`);
  return seen;
}

/** Delivered, failed (with its reason) or lost: what became of one acknowledged message. */
async function judge(queue: Queue, ack: Ack, sends: SesCopy[], result: Reconciliation): Promise<void> {
  const seen = matchChunks(ack, sends, result);
  const chunks = expectedChunks(ack.recipients);
  const job = (await queue.getJob(ack.queueId)) as Job | undefined;
  const state = job ? await job.getState() : 'missing';
  const missing = chunks.filter((chunk) => !seen.has(chunkKey(chunk))).length;
  const lose = (detail: string) => {
    result.lost++;
    result.lostDetails.push({ marker: ack.marker, queueId: ack.queueId, ackedAt: ack.at, detail });
  };
  if (state === 'completed') {
    const ids = (job!.returnvalue as { sesMessageIds?: string[] } | null)?.sesMessageIds ?? [];
    const known = new Set(sends.map(({ send }) => send.messageId));
    if (ids.length !== chunks.length || ids.some((id) => !known.has(id)))
      result.violations.push(`${ack.queueId}: returnvalue.sesMessageIds do not match what SES issued`);
    if (missing > 0) lose(`completed, ${missing}/${chunks.length} chunks never reached SES`);
    else result.delivered++;
  } else if (state === 'failed') {
    result.failed++;
    if (missing < chunks.length) result.failedPartly++;
    const reason = (job!.failedReason || 'no reason').replace(/[0-9A-F]{20,}/g, '…').slice(0, 120);
    result.failedReasons[reason] = (result.failedReasons[reason] ?? 0) + 1;
  } else lose(`${state}, ${chunks.length - missing}/${chunks.length} chunks at SES`);
}

export async function reconcile(options: ReconcileOptions): Promise<Reconciliation> {
  const { ses, sender } = options;
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('outbound', { connection, prefix: options.prefix });
  try {
    const acks = [...sender.acked.values()];
    const queueIds = acks.map((ack) => ack.queueId);
    const unsettled = await waitUntilSettled(queue, ses, queueIds, options.settleTimeoutMs);
    const result = emptyResult(acks.length, ses, unsettled ? [`did not settle: ${unsettled}`] : []);
    const byQueueId = groupSends(ses.sends, result.violations);
    for (const ack of acks) {
      await judge(queue, ack, byQueueId.get(ack.queueId) ?? [], result);
      byQueueId.delete(ack.queueId);
    }
    // What is left at SES belongs to queue ids the client was never told about: a retry's first copy.
    for (const [queueId, sends] of byQueueId) {
      const marker = sends[0]?.marker;
      if (marker === undefined || !sender.acked.has(marker))
        result.violations.push(`${queueId} (${marker}) reached SES but its message was never acknowledged`);
      result.retryCopies++;
      result.retryCopyDetails.push({
        marker: marker ?? '?',
        queueId,
        acknowledgedAs: marker === undefined ? undefined : sender.acked.get(marker)?.queueId,
      });
    }
    return result;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
