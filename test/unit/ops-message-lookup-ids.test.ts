import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { lookupMessage } from '../../src/ops/message-lookup.js';
import type { TraceStore } from '../../src/trace/trace-store.js';

describe('message lookup by the Message-ID SES gives its mail', () => {
  const sesMessageId = '010001918e2a7b3c-5d6e7f80-1234-4abc-9def-0123456789ab-000000';
  const asked: string[] = [];
  const trace = {
    lookup: (id: string) => {
      asked.push(id);
      return Promise.resolve(
        id === sesMessageId
          ? { queueId: 'Q1', events: [{ type: 'failed' as const, at: 1, reason: 'x' }] }
          : undefined,
      );
    },
  } as unknown as TraceStore;
  const queue = { getJob: () => Promise.resolve(undefined) } as unknown as Queue;

  it('finds the message by <MessageId@email.amazonses.com>, after trying the id as given', async () => {
    const view = await lookupMessage({ trace, queue }, `<${sesMessageId}@email.amazonses.com>`);
    expect(view?.queueId).toBe('Q1');
    expect(asked).toEqual([`<${sesMessageId}@email.amazonses.com>`, sesMessageId]);
  });

  it('strips regional SES domains too, and leaves other ids alone', async () => {
    asked.length = 0;
    expect((await lookupMessage({ trace, queue }, `${sesMessageId}@eu-west-1.amazonses.com`))?.queueId).toBe(
      'Q1',
    );
    asked.length = 0;
    expect(await lookupMessage({ trace, queue }, ' <abc@app.example.com> ')).toBeUndefined();
    expect(asked).toEqual(['<abc@app.example.com>']);
  });
});
