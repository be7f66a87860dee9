// Suppression store benchmark: memory per entry at 1M addresses, import rate, checkMany throughput and
// isSuppressed latency, on a private redis-server that it starts and stops itself.
// Run: npx tsx test/bench/suppression.ts   (SUPPRESSION_BENCH_ENTRIES=100000 for a quick run)
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createSuppressionStore, type SuppressionStore } from '../../src/suppression/index.js';
import type { ImportRecord, SuppressionDetails } from '../../src/suppression/types.js';
import { startPrivateRedis } from '../helpers/redis.js';
import { printTable, type BenchRow } from './table.js';

export type Row = BenchRow;

const DEFAULT_ENTRIES = 1_000_000;
const IMPORT_CHUNK_RECORDS = 50_000;
const CONCURRENT_CALLERS = 50;
const THROUGHPUT_RUN_MS = 3000;
const LATENCY_SAMPLES = 20_000;
const PREFIX = 'bench';
const AT_MS = Date.UTC(2026, 10, 1);

const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'example.org', 'mail.example.net', 'corp.co.uk'];
const NAMES = ['anna', 'bruno', 'chen', 'dmitri', 'elena', 'farid', 'grace', 'hiro'];

/** Realistic-looking addresses of ~30 characters, unique by index. */
function address(i: number): string {
  return `${NAMES[i % NAMES.length]}.${i.toString(36).padStart(6, '0')}x@${DOMAINS[i % DOMAINS.length]}`;
}

const HARD_BOUNCE: SuppressionDetails = {
  reason: 'bounce',
  bounceType: 'Permanent',
  bounceSubType: 'General',
  diagnosticCode: 'smtp; 550 5.1.1 user unknown',
  sesMessageId: '0100019a2b3c4d5e-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000',
  feedbackId: '0100019a2b3c4e6f-2b3c4d5e-6f7a-8b9c-0d1e-2f3a4b5c6d7e-000000',
};

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

async function importAll(
  store: SuppressionStore,
  entries: number,
  details: SuppressionDetails,
): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < entries; from += IMPORT_CHUNK_RECORDS) {
    const records: ImportRecord[] = [];
    for (let i = from; i < Math.min(entries, from + IMPORT_CHUNK_RECORDS); i++) {
      records.push({ address: address(i), details: { ...details, at: AT_MS } });
    }
    await store.importMany(records);
  }
  return entries / ((performance.now() - started) / 1000);
}

async function setReference(redis: Redis, entries: number): Promise<number> {
  await redis.flushall();
  const before = await usedMemory(redis);
  for (let from = 0; from < entries; from += IMPORT_CHUNK_RECORDS) {
    const members = [];
    for (let i = from; i < Math.min(entries, from + IMPORT_CHUNK_RECORDS); i++) members.push(address(i));
    await redis.sadd(`${PREFIX}:reference-set`, ...members);
  }
  const bytes = (await usedMemory(redis)) - before;
  await redis.flushall();
  return bytes / entries;
}

/** Half the checked addresses are suppressed, half are not (index beyond the imported range). */
function checkBatch(entries: number, size: number): string[] {
  return Array.from({ length: size }, () => {
    const i = Math.floor(Math.random() * entries);
    return Math.random() < 0.5 ? address(i) : address(entries + i);
  });
}

async function checkThroughput(store: SuppressionStore, entries: number, batchSize: number): Promise<number> {
  const batches = Array.from({ length: 1000 }, () => checkBatch(entries, batchSize));
  let checked = 0;
  const deadline = performance.now() + THROUGHPUT_RUN_MS;
  const started = performance.now();
  const caller = async (offset: number): Promise<void> => {
    for (let n = offset; performance.now() < deadline; n++) {
      await store.checkMany(batches[n % batches.length]!);
      checked += batchSize;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_CALLERS }, (_, i) => caller(i * 7)));
  return checked / ((performance.now() - started) / 1000);
}

async function latency(store: SuppressionStore, entries: number): Promise<{ p50: number; p99: number }> {
  const addresses = checkBatch(entries, LATENCY_SAMPLES);
  const samples: number[] = [];
  for (const a of addresses) {
    const started = process.hrtime.bigint();
    await store.isSuppressed(a);
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  samples.sort((x, y) => x - y);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

function row(name: string, value: number, unit: string, detail?: string): Row {
  const shown = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
  return {
    bench: 'suppression',
    case: name,
    value: `${shown} ${unit}`,
    ...(detail === undefined ? {} : { detail }),
  };
}

async function memoryAndImport(redis: Redis, entries: number): Promise<Row[]> {
  const setBytes = await setReference(redis, entries);
  const store = createSuppressionStore({ redis, prefix: PREFIX });
  const empty = await usedMemory(redis);
  const importRate = await importAll(store, entries, { reason: 'imported' });
  const membership = await usedMemory(redis);
  const upsertRate = await importAll(store, entries, HARD_BOUNCE);
  const full = await usedMemory(redis);
  const per = (bytes: number) => bytes / entries;
  return [
    row('import, no details', importRate, 'entries/s', `importMany, batches of 500, ${entries} entries`),
    row('upsert with SES bounce details', upsertRate, 'entries/s', 'importMany over existing entries'),
    row(
      'memory: membership + summary',
      per(membership - empty),
      'B/entry',
      `plain SET: ${setBytes.toFixed(1)} B/entry`,
    ),
    row(
      'memory: detail record',
      per(full - membership),
      'B/entry',
      'typical hard bounce: type, subtype, diagnostic, SES ids',
    ),
    row('memory: summary + detail', per(full - empty), 'B/entry'),
  ];
}

async function privacyMemory(redis: Redis, entries: number): Promise<Row[]> {
  await redis.flushall();
  const store = createSuppressionStore({ redis, prefix: PREFIX, hashKey: 'bench-key' });
  const empty = await usedMemory(redis);
  const rate = await importAll(store, entries, { reason: 'imported' });
  const bytes = (await usedMemory(redis)) - empty;
  return [
    row('privacy mode: import', rate, 'entries/s'),
    row(
      'privacy mode: membership + summary',
      bytes / entries,
      'B/entry',
      '64-char HMAC hex instead of the address',
    ),
  ];
}

export async function runSuppressionBench(entries = DEFAULT_ENTRIES): Promise<Row[]> {
  const server = await startPrivateRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  try {
    const rows = await memoryAndImport(redis, entries);
    const store = createSuppressionStore({ redis, prefix: PREFIX });
    for (const size of [1, 50]) {
      const rate = await checkThroughput(store, entries, size);
      rows.push(
        row(
          `checkMany, batches of ${size}`,
          rate,
          'addresses/s',
          `${CONCURRENT_CALLERS} concurrent callers, one connection, half suppressed`,
        ),
      );
    }
    const { p50, p99 } = await latency(store, entries);
    rows.push(
      row('isSuppressed latency', p50, 'µs p50', `p99 ${p99.toFixed(0)} µs, sequential, one connection`),
    );
    rows.push(...(await privacyMemory(redis, entries)));
    return rows;
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const entries = Number(process.env.SUPPRESSION_BENCH_ENTRIES ?? DEFAULT_ENTRIES);
  console.log(
    `suppression store, ${entries.toLocaleString('en-US')} addresses of ~${address(entries).length} chars`,
  );
  printTable(await runSuppressionBench(entries));
}
