import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backstopMaxClients } from '../../src/smtp/connection-limits.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { SmtpClient } from '../helpers/smtp-client.js';

describe('SMTP_MAX_CONNECTIONS_PER_IP by client key', () => {
  let gw: TestGateway;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    // PROXY headers let one test host speak for many IPv6 clients; loopback is the trusted balancer.
    gw = await startGateway({
      SMTP_PROXY_PROTOCOL: 'true',
      SMTP_PROXY_TRUSTED_NETWORKS: '127.0.0.1',
      SMTP_ALLOWED_NETWORKS: '2001:db8::/32',
      SMTP_MAX_CONNECTIONS_PER_IP: '2',
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await gw.stop();
  });

  /** A connection on behalf of `client`; resolves with the server's first line. */
  function connectAs(client: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(gw.smtpPort, '127.0.0.1', () =>
        socket.write(`PROXY TCP6 ${client} 2001:db8:ffff::1 40000 25\r\n`),
      );
      sockets.push(socket);
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
  }

  it('counts the addresses of one IPv6 /64 together, as the login throttle does', async () => {
    expect(await connectAs('2001:db8:1:2::1')).toMatch(/^220 /);
    expect(await connectAs('2001:db8:1:2::2')).toMatch(/^220 /);
    expect(await connectAs('2001:db8:1:2:ffff::3')).toBe('421 4.7.0 Too many connections from your host');
    // The next /64 has a budget of its own.
    expect(await connectAs('2001:db8:1:3::1')).toMatch(/^220 /);
  });
});

// smtp-server's own maxClients check runs before onConnect; set to SMTP_MAX_CONNECTIONS it answered
// first, with "421 <name> Too many connected clients" (no enhanced code, log line or metric).
describe('SMTP_MAX_CONNECTIONS', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ROLES: 'smtp,http', SMTP_MAX_CONNECTIONS: '2' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it("refuses the connection past the limit with the gateway's 421 4.7.0, logs it and counts it", async () => {
    const clients = await Promise.all([1, 2, 3].map(() => SmtpClient.connect(gw.smtpPort)));
    try {
      const replies = await Promise.all(clients.map((client) => client.read()));
      expect(replies.map((reply) => reply.code).sort()).toEqual([220, 220, 421]);
      expect(replies.find((reply) => reply.code === 421)?.text).toBe('4.7.0 Too many connections');
      expect(gw.logs.filter((line) => line.msg === 'smtp.refused.connections')).toMatchObject([
        { limit: 'total' },
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/ses_relay_messages_refused_total\{reason="connections"\} 1\n/);
    } finally {
      for (const client of clients) client.close();
    }
  });

  it("gives smtp-server's own check (a backstop) about 10 %, at least 1, above the gateway's limit", () => {
    expect(backstopMaxClients(1)).toBe(2);
    expect(backstopMaxClients(2)).toBe(3);
    expect(backstopMaxClients(10)).toBe(11);
    expect(backstopMaxClients(1000)).toBe(1100);
    expect(backstopMaxClients(1001)).toBe(1102);
  });
});
