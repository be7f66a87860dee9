// A user's dailyCap and rateShare as the users file has them now apply to mail already queued: the
// smtp role publishes them on every (re)load and the worker uses them instead of the copy each job
// took at intake (README, How a message flows, 6). A removed user's mail keeps its copy.
import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendingHolds, type SendingHolds } from '../../src/queue/holds.js';
import { createKeys, OUTBOUND_QUEUE, type Keys } from '../../src/shared/keys.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'user-policy-password';
const HASH = bcrypt.hashSync(PASSWORD, 4);

interface UserEntry {
  username: string;
  dailyCap?: number;
  rateShare?: number;
}

const INITIAL: UserEntry[] = [
  { username: 'raised', dailyCap: 2 },
  { username: 'lowered', dailyCap: 100 },
  { username: 'slowed', rateShare: 1000 },
  { username: 'removed', dailyCap: 2 },
];

async function sendAs(port: number, user: string, recipients: string[]): Promise<string> {
  const client = await SmtpClient.connect(port);
  try {
    await client.hello();
    expect((await client.auth(user, PASSWORD)).code).toBe(235);
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    for (const to of recipients) expect((await client.command(`RCPT TO:<${to}>`)).code).toBe(250);
    const reply = await client.data(simpleMessage());
    expect(reply.code).toBe(250);
    return /queued as (\w+)/.exec(reply.text)![1]!;
  } finally {
    client.close();
  }
}

describe("a user's policy changed in the users file, for mail already queued", () => {
  let gw: TestGateway;
  let queue: Queue;
  let holds: SendingHolds;
  let keys: Keys;
  let file: string;
  let users: UserEntry[] = INITIAL;

  /** Writes the file with `change` applied to the users and reloads it (as SIGHUP does). */
  async function changeUsers(change: (users: UserEntry[]) => UserEntry[]): Promise<void> {
    users = change(users);
    writeUsers();
    await gw.app.reload();
  }
  const writeUsers = () =>
    fs.writeFileSync(file, JSON.stringify({ users: users.map((user) => ({ ...user, password: HASH })) }));
  const state = async (queueId: string) => queue.getJobState(queueId);
  const holdsOf = (queueId: string) =>
    gw.logs.filter(
      (l) => l.msg === 'queue.delayed' && l.queueId === queueId && String(l.why).includes('daily cap'),
    );
  const sentTo = (address: string) => gw.ses.sends.filter((s) => s.to.includes(address));

  beforeAll(async () => {
    file = path.join(tempDir('user-policy'), 'users.json');
    writeUsers();
    gw = await startGateway({ SMTP_USERS_FILE: file, SMTP_ALLOW_INSECURE_AUTH: 'true' });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    keys = createKeys(gw.config.REDIS_PREFIX);
    holds = createSendingHolds({
      redis: gw.redis,
      queue,
      holdKey: keys.sendingHold,
      throttleKey: keys.throttle,
    });
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
    removeTempDirs();
  });

  it("publishes every user's dailyCap and rateShare at start-up", async () => {
    expect(await gw.redis.hgetall(keys.userPolicy)).toEqual({
      raised: '{"dailyCap":2}',
      lowered: '{"dailyCap":100}',
      slowed: '{"rateShare":1000}',
      removed: '{"dailyCap":2}',
    });
  });

  it('sends mail held by a dailyCap once the cap is raised, at its next look', async () => {
    const first = await sendAs(gw.smtpPort, 'raised', ['r1@example.net', 'r2@example.net']);
    await waitFor(async () => (await state(first)) === 'completed', { what: 'the first send' });
    const held = await sendAs(gw.smtpPort, 'raised', ['r3@example.net']);
    await waitFor(async () => (await state(held)) === 'delayed', { what: 'the hold' });
    // queue.delayed is logged once BullMQ's move has returned, a moment after the state reads so.
    await waitFor(() => holdsOf(held).length > 0, { what: 'the hold to be logged' });
    expect(holdsOf(held).map((l) => l.dailyCap)).toEqual([2]);

    await changeUsers((all) => all.map((u) => (u.username === 'raised' ? { ...u, dailyCap: 100 } : u)));
    // Stand-in for the 10-minute recheck: the held job runs again now.
    await (await queue.getJob(held))!.promote();
    await waitFor(async () => (await state(held)) === 'completed' || holdsOf(held).length > 1, {
      what: 'the held message to run again',
    });
    expect(holdsOf(held).map((l) => l.dailyCap)).toEqual([2]);
    expect(await state(held)).toBe('completed');
    expect(sentTo('r3@example.net')).toHaveLength(1);
  });

  it('holds mail queued under a larger dailyCap once the cap is lowered', async () => {
    await holds.pause({ reason: 'test: mail queued before the change', by: 'operator' });
    let queued: string;
    try {
      queued = await sendAs(gw.smtpPort, 'lowered', ['l1@example.net', 'l2@example.net', 'l3@example.net']);
      await changeUsers((all) => all.map((u) => (u.username === 'lowered' ? { ...u, dailyCap: 2 } : u)));
    } finally {
      await holds.resume();
    }
    await waitFor(async () => (await state(queued)) === 'delayed' && holdsOf(queued).length > 0, {
      what: 'the hold by the lowered cap',
    });
    expect(holdsOf(queued).map((l) => l.dailyCap)).toEqual([2]);
    expect(sentTo('l1@example.net')).toHaveLength(0);
  });

  it('paces mail queued under a larger rateShare at the lowered one', async () => {
    await holds.pause({ reason: 'test: mail queued before the change', by: 'operator' });
    const queued: string[] = [];
    try {
      for (const to of ['s1@example.net', 's2@example.net'])
        queued.push(await sendAs(gw.smtpPort, 'slowed', [to]));
      await changeUsers((all) => all.map((u) => (u.username === 'slowed' ? { ...u, rateShare: 1 } : u)));
    } finally {
      await holds.resume();
    }
    await waitFor(async () => (await Promise.all(queued.map(state))).every((s) => s === 'completed'), {
      what: 'both messages to go out',
      timeoutMs: 15_000,
    });
    const times = ['s1@example.net', 's2@example.net'].map((to) => sentTo(to)[0]!.at).sort((a, b) => a - b);
    // 1 recipient/s: the second cannot reach SES within a second of the first (at 1000/s it would).
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(900);
  });

  it("keeps a removed user's queued mail on the policy it was queued with", async () => {
    const first = await sendAs(gw.smtpPort, 'removed', ['x1@example.net', 'x2@example.net']);
    await waitFor(async () => (await state(first)) === 'completed', { what: 'the first send' });
    const held = await sendAs(gw.smtpPort, 'removed', ['x3@example.net']);
    await waitFor(async () => (await state(held)) === 'delayed', { what: 'the hold' });

    await changeUsers((all) => all.filter((u) => u.username !== 'removed'));
    expect(Object.keys(await gw.redis.hgetall(keys.userPolicy)).sort()).toEqual([
      'lowered',
      'raised',
      'slowed',
    ]);
    await (await queue.getJob(held))!.promote();
    await waitFor(() => holdsOf(held).length > 1, { what: 'the held message to run again' });
    // Held again by its own copy of the cap, not sent as if the user had none.
    expect(holdsOf(held).map((l) => l.dailyCap)).toEqual([2, 2]);
    expect(await state(held)).toBe('delayed');
    expect(sentTo('x3@example.net')).toHaveLength(0);
  });
});
