// The admin API's message lookup takes whatever an operator pastes. Ids spelled like the trace's own
// index names (`ses:<SES MessageId>`, `mid:<Message-ID>`) are looked up like any other id: found
// when they are one, otherwise a 404, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'admin-message-ids-test-token';
let gw: TestGateway;
let base: string;

beforeAll(async () => {
  gw = await startGateway({ ADMIN_TOKEN: TOKEN });
  base = `http://127.0.0.1:${gw.httpPort}/admin/api/messages/`;
});
afterAll(() => gw.stop());

const lookup = (id: string) =>
  fetch(base + encodeURIComponent(id), { headers: { authorization: `Bearer ${TOKEN}` } });

describe('admin API: message lookup by odd ids', () => {
  it('answers ids named like the trace index with 404 in JSON, and still finds the message', async () => {
    const sent = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['reader@example.net'],
      message: simpleMessage({ extra: ['Message-ID: <odd-ids-1@app.example>'] }),
    });
    const queueId = /queued as (\w+)/.exec(sent.data!.text)![1]!;
    const { messageId } = await waitFor(() => gw.ses.sends[0], { what: 'the SES call' });
    await waitFor(async () => (await lookup(messageId)).status === 200 || undefined, {
      what: 'the SES MessageId to be traced',
    });

    for (const id of [`ses:${messageId}`, 'mid:odd-ids-1@app.example']) {
      const res = await lookup(id);
      expect(res.status, id).toBe(404);
      expect(await res.json(), id).toEqual({
        error: { code: 'ADMIN_NOT_FOUND', message: 'no message with that id is traced', field: 'id' },
      });
    }
    expect(gw.logs.filter((line) => line.msg === 'admin.error')).toEqual([]);
    for (const id of [queueId, messageId, '<odd-ids-1@app.example>']) {
      const res = await lookup(id);
      expect(res.status, id).toBe(200);
      expect(((await res.json()) as { queueId: string }).queueId, id).toBe(queueId);
    }
  });
});
