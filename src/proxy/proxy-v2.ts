// A parser for the PROXY protocol header (HAProxy's proxy-protocol.txt): version 2 (binary, the only
// one AWS Network Load Balancers send) and version 1 (text). smtp-server's `useProxy` reads v1 only.
// Pure: it looks at the bytes received so far and says "complete", "incomplete" or "invalid".
import net from 'node:net';

/** v2 starts with these 12 bytes, chosen so that no v1 or protocol line can begin with them. */
export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line the specification allows, CRLF included. */
export const V1_MAX_BYTES = 107;
/** Signature, version/command, family/transport and the 2-byte length. */
const V2_FIXED_BYTES = 16;
/** Address block sizes by family: IPv4 4+4+2+2, IPv6 16+16+2+2, UNIX 108+108. */
const V2_ADDRESS_BYTES = { ipv4: 12, ipv6: 36, unix: 216, unspec: 0 } as const;

export interface ProxyAddress {
  address: string;
  port: number;
}

export interface ProxyTlv {
  /** e.g. 0x01 ALPN, 0x02 authority, 0x05 unique id, 0x20 SSL, 0xEA AWS (VPC endpoint id). */
  type: number;
  value: Buffer;
}

export interface ProxyHeader {
  version: 1 | 2;
  /** 'local': the proxy speaking for itself (health checks); use the socket's own addresses. */
  command: 'proxy' | 'local';
  /** v1 TCP4/TCP6 are ipv4/ipv6 with transport 'stream'. */
  family: 'ipv4' | 'ipv6' | 'unix' | 'unspec';
  transport: 'stream' | 'dgram' | 'unspec';
  /** The client as the proxy saw it; absent for LOCAL, UNKNOWN, UNSPEC and UNIX. */
  source?: ProxyAddress;
  destination?: ProxyAddress;
  tlvs: ProxyTlv[];
}

export type ProxyParseResult =
  | { status: 'complete'; header: ProxyHeader; /** bytes the header took */ length: number }
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string };

const invalid = (reason: string): ProxyParseResult => ({ status: 'invalid', reason });

/** Whether `buffer` so far agrees with `prefix` (a shorter buffer may still become it). */
function startsLike(buffer: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buffer.length, prefix.length);
  return buffer.subarray(0, n).equals(prefix.subarray(0, n));
}

/** Parses the header at the start of `buffer`. */
export function parseProxyHeader(buffer: Buffer): ProxyParseResult {
  if (startsLike(buffer, V2_SIGNATURE)) {
    return buffer.length < V2_SIGNATURE.length ? { status: 'incomplete' } : parseV2(buffer);
  }
  if (startsLike(buffer, V1_PREFIX)) return parseV1(buffer);
  return invalid('no PROXY protocol header');
}

function parsePort(text: string | undefined): number | undefined {
  // Decimal, no sign and no leading zeros, 0–65535.
  if (text === undefined || !/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function parseV1(buffer: Buffer): ProxyParseResult {
  const end = buffer.subarray(0, V1_MAX_BYTES).indexOf('\r\n', 0, 'latin1');
  if (end === -1) {
    return buffer.length >= V1_MAX_BYTES
      ? invalid('v1 header longer than 107 bytes')
      : { status: 'incomplete' };
  }
  const length = end + 2;
  const fields = buffer.subarray(0, end).toString('latin1').split(' ');
  const base = { version: 1 as const, transport: 'stream' as const, tlvs: [] };
  if (fields[1] === 'UNKNOWN') {
    // The proxy could not tell (or would not); anything after UNKNOWN is to be ignored.
    return { status: 'complete', length, header: { ...base, command: 'proxy', family: 'unspec' } };
  }
  if (fields.length !== 6) return invalid('v1 header needs 6 fields separated by single spaces');
  const [, protocol, source, destination, sourcePort, destinationPort] = fields;
  const family = protocol === 'TCP4' ? 'ipv4' : protocol === 'TCP6' ? 'ipv6' : undefined;
  if (!family) return invalid('v1 protocol must be TCP4, TCP6 or UNKNOWN');
  const isFamily = family === 'ipv4' ? net.isIPv4 : net.isIPv6;
  if (!isFamily(source ?? '') || !isFamily(destination ?? '')) {
    return invalid(`v1 addresses do not match ${protocol}`);
  }
  const sport = parsePort(sourcePort);
  const dport = parsePort(destinationPort);
  if (sport === undefined || dport === undefined) return invalid('v1 ports must be decimal numbers 0–65535');
  return {
    status: 'complete',
    length,
    header: {
      ...base,
      command: 'proxy',
      family,
      source: { address: source!, port: sport },
      destination: { address: destination!, port: dport },
    },
  };
}

function formatIpv6(bytes: Buffer): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    // IPv4-mapped, written the way Node reports such peers on a dual-stack socket.
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  // RFC 5952: compress the longest run of two or more zero groups (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function parseTlvs(block: Buffer): ProxyTlv[] | undefined {
  const tlvs: ProxyTlv[] = [];
  for (let offset = 0; offset < block.length;) {
    if (offset + 3 > block.length) return undefined;
    const type = block.readUInt8(offset);
    const length = block.readUInt16BE(offset + 1);
    if (offset + 3 + length > block.length) return undefined;
    tlvs.push({ type, value: Buffer.from(block.subarray(offset + 3, offset + 3 + length)) });
    offset += 3 + length;
  }
  return tlvs;
}

function parseV2(buffer: Buffer): ProxyParseResult {
  if (buffer.length < V2_FIXED_BYTES) {
    // The version nibble can already be wrong before the rest has arrived.
    if (buffer.length > 12 && buffer.readUInt8(12) >> 4 !== 2) return invalid('v2 version nibble is not 2');
    return { status: 'incomplete' };
  }
  const versionCommand = buffer.readUInt8(12);
  if (versionCommand >> 4 !== 2) return invalid('v2 version nibble is not 2');
  const commandCode = versionCommand & 0x0f;
  if (commandCode > 1) return invalid(`v2 command ${commandCode} is neither LOCAL (0) nor PROXY (1)`);
  const familyTransport = buffer.readUInt8(13);
  const family = (['unspec', 'ipv4', 'ipv6', 'unix'] as const)[familyTransport >> 4];
  const transport = (['unspec', 'stream', 'dgram'] as const)[familyTransport & 0x0f];
  if (!family || !transport)
    return invalid(`v2 family/transport byte 0x${familyTransport.toString(16)} is unknown`);
  const length = V2_FIXED_BYTES + buffer.readUInt16BE(14);
  if (buffer.length < length) return { status: 'incomplete' };
  const body = buffer.subarray(V2_FIXED_BYTES, length);
  if (commandCode === 0) {
    // LOCAL: the proxy's own connection (a health check). The whole block, family and TLVs
    // included, is to be discarded and the socket's real endpoints used.
    return {
      status: 'complete',
      length,
      header: { version: 2, command: 'local', family, transport, tlvs: [] },
    };
  }
  const addressBytes = V2_ADDRESS_BYTES[family];
  if (body.length < addressBytes) return invalid(`v2 ${family} header has ${body.length} address bytes`);
  const tlvs = parseTlvs(body.subarray(addressBytes));
  if (!tlvs) return invalid('v2 TLV runs past the header');
  const header: ProxyHeader = { version: 2, command: 'proxy', family, transport, tlvs };
  if (family === 'ipv4' || family === 'ipv6') {
    const size = family === 'ipv4' ? 4 : 16;
    const format = (bytes: Buffer) => (family === 'ipv4' ? [...bytes].join('.') : formatIpv6(bytes));
    header.source = { address: format(body.subarray(0, size)), port: body.readUInt16BE(2 * size) };
    header.destination = {
      address: format(body.subarray(size, 2 * size)),
      port: body.readUInt16BE(2 * size + 2),
    };
  }
  return { status: 'complete', header, length };
}
