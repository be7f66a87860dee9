import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createLogger } from '../../src/shared/logger.js';
import { createNetworkPolicy } from '../../src/smtp/policy.js';
import { createProxyFront, type ProxyFrontOptions } from '../../src/smtp/proxy-front.js';
import { waitFor } from '../helpers/wait.js';

describe('PROXY front', () => {
  const servers: net.Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  async function start(handOver: ProxyFrontOptions['handOver']) {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    });
    const front = createProxyFront({
      logger,
      metrics: createMetrics(),
      listener: 'smtp',
      maxPending: 10,
      trusted: createNetworkPolicy([{ address: '127.0.0.1', prefix: 32, family: 'ipv4' }]),
      handOver,
    });
    servers.push(front);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    return { port: (front.address() as AddressInfo).port, lines, front };
  }

  /** Sends a PROXY header; resolves once the server closes the connection. */
  function closedAfterHeader(port: number): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write('PROXY TCP4 192.0.2.9 127.0.0.1 40000 25\r\n'),
      );
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
  }

  it('closes a connection it cannot hand over, logs why, and keeps serving', async () => {
    let calls = 0;
    const { port, lines } = await start(() => {
      calls++;
      throw new Error('hand-over broke');
    });
    await closedAfterHeader(port);
    await closedAfterHeader(port);
    expect(calls).toBe(2);
    const failures = await waitFor(() => {
      const found = lines.filter((line) => line.msg === 'smtp.proxy_handover_failed');
      return found.length === 2 ? found : undefined;
    });
    expect(failures[0]).toMatchObject({ level: 'error', listener: 'smtp', err: 'hand-over broke' });
  });

  it('logs an error on its listening socket and keeps serving', async () => {
    let calls = 0;
    const { port, lines, front } = await start(() => {
      calls++;
      throw new Error('hand-over broke');
    });
    front.emit('error', Object.assign(new Error('accept ENOBUFS'), { code: 'ENOBUFS' }));
    expect(lines.find((line) => line.msg === 'smtp.proxy_front_error')).toMatchObject({
      level: 'error',
      listener: 'smtp',
      err: 'accept ENOBUFS',
    });
    await closedAfterHeader(port);
    expect(calls).toBe(1);
  });
});
