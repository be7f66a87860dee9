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
    const logger = createLogger('debug', {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    });
    const metrics = createMetrics();
    const front = createProxyFront({
      logger,
      metrics,
      listener: 'smtp',
      maxPending: 10,
      trusted: createNetworkPolicy([{ address: '127.0.0.1', prefix: 32, family: 'ipv4' }]),
      handOver,
    });
    servers.push(front);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    return { port: (front.address() as AddressInfo).port, lines, front, metrics };
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

  it('lets a peer that closes or resets before its first byte go without a refusal (a TCP health check)', async () => {
    let calls = 0;
    const { port, lines, metrics } = await start(() => {
      calls++;
    });
    const refusals = async () =>
      (await metrics.messagesRefused.get()).values.find((value) => value.labels.reason === 'proxy')?.value ??
      0;
    for (const leave of [
      (socket: net.Socket) => socket.end(),
      (socket: net.Socket) => socket.resetAndDestroy(),
    ]) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => leave(socket));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
    }
    await waitFor(() => lines.filter((line) => line.msg === 'smtp.proxy_closed_silent').length === 2, {
      what: 'both peers seen',
    });
    expect(lines.filter((line) => line.msg === 'smtp.refused.proxy')).toEqual([]);
    expect(await refusals()).toBe(0);
    // A peer that did send something and then closed is still refused.
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end('PROXY TCP4 192.0.2.9'));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
    const refused = await waitFor(() => lines.find((line) => line.msg === 'smtp.refused.proxy'));
    expect(refused).toMatchObject({ level: 'warn', reason: 'connection closed before the PROXY header' });
    expect(await refusals()).toBe(1);
    expect(calls).toBe(0);
  });
});
