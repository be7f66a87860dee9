// Small parsers for environment values that zod has no built-in for: durations, byte sizes,
// comma-separated lists and CIDR ranges. Pure, so they are unit-tested on their own.
import net from 'node:net';

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "250ms", "30s", "15m", "2h", "3d"; a bare number is milliseconds. */
export function parseDurationMs(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = (match[2] ?? 'ms').toLowerCase();
  return Math.round(Number(match[1]) * (DURATION_UNITS_MS[unit] ?? 1));
}

/** 900000 → "15m", 259200 → "259.2s", 250 → "250ms": the largest unit that reads exactly, for messages. */
export function formatDurationMs(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

const SIZE_UNITS_BYTES: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000_000,
  kib: 1024,
  mib: 1024 * 1024,
};

/** "10485760", "10MiB", "25MB", "512KiB". */
export function parseBytes(value: string): number | undefined {
  const match = /^\s*(\d+)\s*(b|kb|mb|kib|mib)?\s*$/i.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (SIZE_UNITS_BYTES[(match[2] ?? 'b').toLowerCase()] ?? 1);
}

export function splitList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128). The prefix is decimal digits only, and
 * one: "10.0.0.0/8/16" or "10.0.0.0/1e1" is a typo, not a range.
 */
export function parseCidr(value: string): Cidr | undefined {
  const [address = '', prefixText, ...rest] = value.split('/');
  const version = net.isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const maxPrefix = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (prefix > maxPrefix) return undefined;
  return { address, prefix, family };
}
