import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createServerErrorLogger } from '../../src/smtp/server-errors.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('debug', {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { log: createServerErrorLogger(logger), lines };
}

describe("smtp-server's error events", () => {
  it('keeps a failure of the listener itself (no client) an error', () => {
    const { log, lines } = capture();
    log(Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'smtp.server_error',
        err: 'accept EMFILE',
        code: 'EMFILE',
      }),
    ]);
  });

  it("logs a client's connection error at info with the client, once however often it is emitted", () => {
    const { log, lines } = capture();
    const err = Object.assign(new Error('read ECONNRESET'), {
      code: 'ECONNRESET',
      remoteAddress: '::ffff:192.0.2.7',
    });
    log(err);
    log(err);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'smtp.client_error',
        client: '192.0.2.7',
        code: 'ECONNRESET',
      }),
    ]);
  });

  it('logs a failed TLS handshake at info, and a client gone during it at debug', () => {
    const { log, lines } = capture();
    log(
      Object.assign(new Error('wrong version number\n'), {
        code: 'ERR_SSL',
        meta: { remoteAddress: '192.0.2.8' },
      }),
    );
    log(
      Object.assign(new Error('Socket closed while initiating TLS'), {
        report: false,
        meta: { remoteAddress: '192.0.2.9' },
      }),
    );
    expect(lines.map((line) => [line.level, line.msg, line.client, line.err])).toEqual([
      ['info', 'smtp.tls_failed', '192.0.2.8', 'wrong version number'],
      ['debug', 'smtp.tls_failed', '192.0.2.9', 'Socket closed while initiating TLS'],
    ]);
  });
});
