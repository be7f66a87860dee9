import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyHeader, V2_SIGNATURE, type ProxyParseResult } from '../../src/proxy/proxy-v2.js';
import { readProxyHeader, type ReadHeaderResult } from '../../src/proxy/read-header.js';

/** A v2 header from its parts, the way HAProxy and AWS NLB put it on the wire. */
function v2(versionCommand: number, familyTransport: number, body: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([versionCommand, familyTransport]), length, body]);
}

const port = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const tlv = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type]), port(value.length), value]);
const TCP4_BODY = Buffer.concat([Buffer.from([192, 0, 2, 1, 198, 51, 100, 7]), port(49152), port(25)]);
const IPV6_SOURCE = Buffer.from('20010db8000000000000000000000001', 'hex');
const IPV6_DESTINATION = Buffer.from('20010db8000100000000000000abcdef', 'hex');
const TCP6_BODY = Buffer.concat([IPV6_SOURCE, IPV6_DESTINATION, port(65535), port(587)]);

function complete(result: ProxyParseResult) {
  if (result.status !== 'complete')
    throw new Error(`expected a complete header, got ${JSON.stringify(result)}`);
  return result;
}

describe('PROXY protocol v2 parser', () => {
  it('parses TCP over IPv4 and says how many bytes the header took', () => {
    const header = v2(0x21, 0x11, TCP4_BODY);
    const result = complete(parseProxyHeader(Buffer.concat([header, Buffer.from('EHLO x\r\n')])));
    expect(result.length).toBe(header.length);
    expect(result.header).toEqual({
      version: 2,
      command: 'proxy',
      family: 'ipv4',
      transport: 'stream',
      source: { address: '192.0.2.1', port: 49152 },
      destination: { address: '198.51.100.7', port: 25 },
      tlvs: [],
    });
  });

  it('parses TCP over IPv6, writing addresses as RFC 5952 does', () => {
    const { header } = complete(parseProxyHeader(v2(0x21, 0x21, TCP6_BODY)));
    expect(header.family).toBe('ipv6');
    expect(header.source).toEqual({ address: '2001:db8::1', port: 65535 });
    expect(header.destination).toEqual({ address: '2001:db8:1::ab:cdef', port: 587 });
    const mapped = Buffer.concat([
      Buffer.from('00000000000000000000ffffc0000201', 'hex'),
      IPV6_DESTINATION,
      port(1),
      port(2),
    ]);
    expect(complete(parseProxyHeader(v2(0x21, 0x21, mapped))).header.source?.address).toBe(
      '::ffff:192.0.2.1',
    );
  });

  it('returns TLVs after the addresses (AWS NLB sends its VPC endpoint id as type 0xEA)', () => {
    const endpoint = Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-0123456789abcdef0')]);
    const body = Buffer.concat([TCP4_BODY, tlv(0xea, endpoint), tlv(0x04, Buffer.alloc(3))]);
    const { header } = complete(parseProxyHeader(v2(0x21, 0x11, body)));
    expect(header.tlvs).toEqual([
      { type: 0xea, value: endpoint },
      { type: 0x04, value: Buffer.alloc(3) },
    ]);
  });

  it('reports LOCAL (a health check) without addresses, whatever block follows', () => {
    expect(complete(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0)))).header).toEqual({
      version: 2,
      command: 'local',
      family: 'unspec',
      transport: 'unspec',
      tlvs: [],
    });
    const local = complete(parseProxyHeader(v2(0x20, 0x11, TCP4_BODY)));
    expect(local.header.source).toBeUndefined();
    expect(local.length).toBe(16 + TCP4_BODY.length);
  });

  it('reports UNSPEC and UNIX proxies without addresses', () => {
    expect(complete(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0)))).header.source).toBeUndefined();
    const unix = complete(parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(216))));
    expect(unix.header).toMatchObject({ family: 'unix', transport: 'stream', tlvs: [] });
    expect(unix.header.source).toBeUndefined();
  });

  it('says "incomplete" for every truncation of a valid header', () => {
    const header = v2(0x21, 0x21, Buffer.concat([TCP6_BODY, tlv(0x05, Buffer.from('id'))]));
    for (let n = 0; n < header.length; n++) {
      expect(parseProxyHeader(header.subarray(0, n)), `first ${n} bytes`).toEqual({ status: 'incomplete' });
    }
  });

  it('refuses malformed headers', () => {
    const cases: [string, Buffer][] = [
      ['version 1 in a v2 signature', v2(0x11, 0x11, TCP4_BODY)],
      ['version nibble wrong before the length arrived', Buffer.concat([V2_SIGNATURE, Buffer.from([0x31])])],
      ['command 2', v2(0x22, 0x11, TCP4_BODY)],
      ['family 4', v2(0x21, 0x41, TCP4_BODY)],
      ['transport 3', v2(0x21, 0x13, TCP4_BODY)],
      ['IPv4 with 11 address bytes', v2(0x21, 0x11, TCP4_BODY.subarray(0, 11))],
      ['IPv6 with IPv4-sized addresses', v2(0x21, 0x21, TCP4_BODY)],
      [
        'TLV longer than the header',
        v2(0x21, 0x11, Buffer.concat([TCP4_BODY, Buffer.from([0x01, 0x00, 0x09, 0x41])])),
      ],
      ['TLV cut in its own header', v2(0x21, 0x11, Buffer.concat([TCP4_BODY, Buffer.from([0x01, 0x00])]))],
    ];
    for (const [name, bytes] of cases) expect(parseProxyHeader(bytes).status, name).toBe('invalid');
  });
});

describe('PROXY protocol v1 parser', () => {
  it('parses TCP4, TCP6 and UNKNOWN lines', () => {
    const line = 'PROXY TCP4 192.0.2.1 198.51.100.7 49152 25\r\n';
    const tcp4 = complete(parseProxyHeader(Buffer.from(`${line}EHLO x\r\n`)));
    expect(tcp4.length).toBe(line.length);
    expect(tcp4.header).toEqual({
      version: 1,
      command: 'proxy',
      family: 'ipv4',
      transport: 'stream',
      source: { address: '192.0.2.1', port: 49152 },
      destination: { address: '198.51.100.7', port: 25 },
      tlvs: [],
    });
    const tcp6 = complete(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n')));
    expect(tcp6.header.source).toEqual({ address: '2001:db8::1', port: 0 });
    const unknown = complete(parseProxyHeader(Buffer.from('PROXY UNKNOWN ignored stuff\r\n')));
    expect(unknown.header).toMatchObject({ family: 'unspec' });
    expect(unknown.header.source).toBeUndefined();
  });

  it('says "incomplete" until the CRLF, and "invalid" past 107 bytes without one', () => {
    const line = Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.7 49152 25\r\n');
    for (let n = 0; n < line.length; n++) {
      expect(parseProxyHeader(line.subarray(0, n)).status, `first ${n} bytes`).toBe('incomplete');
    }
    expect(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(100)}`)).status).toBe('invalid');
  });

  it('refuses malformed lines', () => {
    for (const line of [
      'PROXY TCP5 192.0.2.1 198.51.100.7 1 2\r\n',
      'PROXY TCP4 2001:db8::1 198.51.100.7 1 2\r\n',
      'PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n',
      'PROXY TCP4 192.0.2.1 198.51.100.7 65536 2\r\n',
      'PROXY TCP4 192.0.2.1 198.51.100.7 025 2\r\n',
      'PROXY TCP4 192.0.2.1 198.51.100.7 1\r\n',
      'PROXY TCP4  192.0.2.1 198.51.100.7 1 2\r\n',
      'PROXY TCP4 host.example 198.51.100.7 1 2\r\n',
      'EHLO client.example\r\n',
      'proxy TCP4 192.0.2.1 198.51.100.7 1 2\r\n',
    ]) {
      expect(parseProxyHeader(Buffer.from(line)).status, line).toBe('invalid');
    }
  });
});

describe('reading the header off a socket', () => {
  let server: net.Server;
  let results: Promise<{ result: ReadHeaderResult; rest: Promise<string> }>[] = [];
  let accepted: (value: { result: ReadHeaderResult; rest: Promise<string> }) => void;
  beforeAll(async () => {
    server = net.createServer((socket) => {
      void readProxyHeader(socket, { timeoutMs: 300 }).then((result) => {
        // What the SMTP session would read next.
        const rest = new Promise<string>((resolve) => {
          let text = '';
          socket.on('data', (d: Buffer) => (text += d.toString()));
          socket.on('end', () => resolve(text));
          socket.on('error', () => resolve(text));
          // readProxyHeader leaves the socket paused; smtp-server resumes it by piping.
          socket.resume();
        });
        if (!result.ok) socket.destroy();
        accepted({ result, rest });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function send(chunks: Buffer[], end = true) {
    results = [new Promise((resolve) => (accepted = resolve))];
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    client.on('error', () => undefined);
    for (const chunk of chunks) {
      client.write(chunk);
      // Separate TCP segments: wait for the kernel to take each before the next.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (end) client.end();
    const outcome = await results[0]!;
    client.destroy();
    return outcome;
  }

  it('assembles a header split across writes and leaves the SMTP bytes after it', async () => {
    const header = v2(0x21, 0x11, TCP4_BODY);
    const { result, rest } = await send([
      header.subarray(0, 5),
      header.subarray(5, 15),
      Buffer.concat([header.subarray(15), Buffer.from('EHLO x\r\n')]),
    ]);
    expect(result).toMatchObject({ ok: true, header: { source: { address: '192.0.2.1', port: 49152 } } });
    expect(await rest).toBe('EHLO x\r\n');
  });

  it('gives up on garbage at once, and on silence after the timeout', async () => {
    expect((await send([Buffer.from('EHLO x\r\n')])).result).toEqual({
      ok: false,
      reason: 'no PROXY protocol header',
    });
    expect((await send([], false)).result).toEqual({ ok: false, reason: 'no PROXY header in time' });
    expect((await send([V2_SIGNATURE])).result).toEqual({
      ok: false,
      reason: 'connection closed before the PROXY header',
    });
  });

  it('says when the peer closed without sending a byte (a TCP health check)', async () => {
    expect((await send([])).result).toEqual({
      ok: false,
      reason: 'connection closed before sending anything',
      silent: true,
    });
  });
});
