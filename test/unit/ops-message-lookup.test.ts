import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { describeJob, summarizeTimeline } from '../../src/ops/message-lookup.js';
import type { TraceEvent } from '../../src/trace/trace-store.js';

const events: TraceEvent[] = [
  {
    type: 'accepted',
    at: 1000,
    clientIp: '10.0.0.1',
    from: 'app@example.com',
    recipients: ['a@example.net', 'b@example.net'],
    size: 2048,
    messageId: 'm1@app',
  },
  { type: 'ses-call', at: 1100, outcome: 'transient', recipients: 2, chunk: 0, error: 'busy' },
  { type: 'ses-call', at: 1500, outcome: 'sent', sesMessageId: 'ses-1', recipients: 2, chunk: 0 },
  { type: 'ses-event', at: 3000, event: 'Delivery', sesMessageId: 'ses-1', recipients: ['a@example.net'] },
  { type: 'ses-event', at: 2500, event: 'Bounce', sesMessageId: 'ses-1', recipients: ['b@example.net'] },
];

describe('summarizeTimeline', () => {
  it('says who sent what to whom, the SES ids and the outcome so far', () => {
    expect(summarizeTimeline(events)).toEqual({
      acceptedAt: 1000,
      from: 'app@example.com',
      recipients: ['a@example.net', 'b@example.net'],
      messageId: 'm1@app',
      size: 2048,
      sesMessageIds: ['ses-1'],
      lastOutcome: 'sent',
      events: { Delivery: 1, Bounce: 1 },
      lastEventAt: 3000,
    });
  });

  it('marks a failed message and copes with a timeline missing its start', () => {
    const summary = summarizeTimeline([{ type: 'failed', at: 5, reason: 'SES said no' }]);
    expect(summary).toMatchObject({ acceptedAt: null, from: null, lastOutcome: 'failed', lastEventAt: 5 });
  });
});

describe('describeJob', () => {
  it('keeps what an operator needs from a BullMQ job', () => {
    const job = {
      id: 'Q1',
      opts: { attempts: 8 },
      attemptsMade: 3,
      timestamp: 100,
      processedOn: 150,
      finishedOn: undefined,
      failedReason: '',
      returnvalue: null,
      data: { recipients: ['secret@example.net'] },
    } as unknown as Job;
    expect(describeJob(job, 'delayed')).toEqual({
      id: 'Q1',
      state: 'delayed',
      attemptsMade: 3,
      attempts: 8,
      timestamp: 100,
      processedOn: 150,
      finishedOn: null,
      failedReason: null,
      result: null,
    });
  });
});
