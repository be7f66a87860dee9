// Redis Cluster's rules for where a key lives, implemented once so that configuration checks, key
// builders and the WAIT after a write all agree with the server. Pure: no connection.

/** Redis Cluster has 16,384 hash slots. */
const CLUSTER_SLOTS = 16_384;

/**
 * The hash tag Redis hashes instead of the whole key: the text between the first `{` and the first
 * `}` after it, when that text is not empty. Otherwise (no `{`, no `}` after it, or `{}` first) Redis
 * hashes the whole key and the result is undefined, even if a later `{…}` looks like a tag.
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}

/** CRC16/XMODEM (polynomial 0x1021), the checksum Redis Cluster takes modulo 16,384. */
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  return crc;
}

/** The hash slot of a key, as `CLUSTER KEYSLOT` computes it. */
export function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key) ?? key, 'utf8')) % CLUSTER_SLOTS;
}
