// /admin/api/suppressions: list with cursor and filters, look up, add and remove one address, bulk
// import (CSV or JSON lines) and a streamed export. Thin: parsing and formatting live in src/ops.
import express from 'express';
import {
  detectFormat,
  EXPORT_CONTENT_TYPES,
  exportSuppressions,
  importSuppressions,
  textLines,
  type SuppressionFormat,
} from '../ops/index.js';
import type { Logger } from '../shared/logger.js';
import type { SuppressionStore } from '../suppression/store.js';
import { AdminError } from './errors.js';
import { principalOf } from './principal.js';
import { addBody, entryParams, formatQuery, listQuery, parseInput } from './validation.js';

/** An import may be a whole exported list: 50 MB is about a million addresses as CSV. */
export const IMPORT_BODY_LIMIT_BYTES = 50 * 1024 * 1024;
/** The import route reads its body as text; the API's JSON parser must leave it alone. */
export const IMPORT_PATH = '/suppressions/import';

/** The import format: `?format=` wins, then the Content-Type, then a look at the first character. */
function importFormat(req: express.Request, body: string): SuppressionFormat {
  const { format } = parseInput(formatQuery, req.query, 'query');
  if (format) return format;
  if (req.is('text/csv')) return 'csv';
  if (req.is(['application/x-ndjson', 'application/jsonl', 'application/json-lines', 'application/json']))
    return 'jsonl';
  return detectFormat(body);
}

/**
 * Writes chunks with back-pressure; stops early when the client has gone. `start` sets the
 * answer's headers once the first chunk is in hand: until then a failure can still be answered as
 * an error, in JSON, without the headers of a download.
 */
async function streamTo(
  res: express.Response,
  chunks: AsyncIterable<string>,
  start: () => void,
): Promise<void> {
  let started = false;
  for await (const chunk of chunks) {
    if (res.destroyed) return;
    if (!started) {
      start();
      started = true;
    }
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!started) start();
  res.end();
}

/**
 * A JSON array is neither format: as JSON lines its first line is `[`, as CSV every line is bad.
 * Said once, for the whole body, rather than as one invalid line per entry.
 */
function refuseJsonArray(body: string): void {
  if (/^\uFEFF?\s*\[/.test(body))
    throw new AdminError(
      'ADMIN_BAD_REQUEST',
      'body: a JSON array; send JSON lines (one object per line, no brackets) or CSV',
      { field: 'body' },
    );
}

/**
 * The export's format, from `?format=`. A client that accepts only JSON (the admin page's lookups
 * send `Accept: application/json`) gets 406, not the whole list: "export" typed where an address
 * belongs must not start a download of every entry.
 */
function exportFormat(req: express.Request): SuppressionFormat {
  const format = parseInput(formatQuery, req.query, 'query').format ?? 'csv';
  const type = EXPORT_CONTENT_TYPES[format].split(';')[0]!;
  if (!req.accepts(type))
    throw new AdminError('ADMIN_NOT_ACCEPTABLE', `export: answers ${type}; the request does not accept it`);
  return format;
}

/** A download's headers: a dated file name and the format's type. */
function setExportHeaders(res: express.Response, format: SuppressionFormat): void {
  const day = new Date().toISOString().slice(0, 10);
  // attachment() sets a type from the extension; ours, with its charset, goes on after it.
  res.attachment(`suppressions-${day}.${format}`);
  res.type(EXPORT_CONTENT_TYPES[format]);
}

function notSuppressed(): AdminError {
  return new AdminError('ADMIN_NOT_FOUND', 'address is not suppressed', { field: 'address' });
}

/**
 * Changes are logged with who made them but without the address: in privacy mode addresses must not
 * reach the logs, and the store's own records say what changed.
 */
export function createSuppressionsApi(store: SuppressionStore, logger: Logger): express.Router {
  const api = express.Router();

  api.get('/suppressions', async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    let page;
    try {
      page = await store.list(query);
    } catch (err) {
      if (err instanceof RangeError)
        throw new AdminError('ADMIN_BAD_REQUEST', 'cursor: not a cursor from this listing', {
          field: 'cursor',
        });
      throw err;
    }
    res.json({ items: page.items, nextCursor: page.nextCursor ?? null });
  });

  // Registered before the GET route, which express would otherwise run for HEAD too: the whole
  // export read from Redis, logged, and its body thrown away.
  api.head('/suppressions/export', (req, res) => {
    setExportHeaders(res, exportFormat(req));
    res.end();
  });

  api.get('/suppressions/export', async (req, res) => {
    const format = exportFormat(req);
    logger.info({ by: principalOf(res), format }, 'admin.suppressions_exported');
    // The walk reads its first page before it yields anything: Redis down is a JSON 503 then.
    await streamTo(res, exportSuppressions(store, format), () => setExportHeaders(res, format));
  });

  api.post(
    IMPORT_PATH,
    // Every type apiBodies() let through is read as text.
    express.text({ type: () => true, limit: IMPORT_BODY_LIMIT_BYTES }),
    async (req, res) => {
      const body = typeof req.body === 'string' ? req.body : '';
      refuseJsonArray(body);
      const format = importFormat(req, body);
      const report = await importSuppressions(store, textLines(body), format);
      const { added, updated, invalid } = report;
      logger.info({ by: principalOf(res), format, added, updated, invalid }, 'admin.suppressions_imported');
      res.json(report);
    },
  );

  api.post('/suppressions', async (req, res) => {
    const body = parseInput(addBody, req.body, 'body');
    const existed = (await store.get(body.address)) !== null;
    const entry = await store.suppress(body.address, {
      reason: body.reason,
      ...(body.expiresAt === undefined ? {} : { expiresAt: body.expiresAt }),
    });
    logger.info({ by: principalOf(res), reason: body.reason, created: !existed }, 'admin.suppression_added');
    // `address` is what was asked for, normalised; in privacy mode `entry.address` is its HMAC.
    res.status(existed ? 200 : 201).json({ address: body.address, entry, created: !existed });
  });

  // These two names are routes, not addresses: another method on them is no route (the API's 404),
  // rather than a lookup of an address called "import".
  api.all(['/suppressions/import', '/suppressions/export'], (_req, _res, next) => {
    next('router');
  });

  // In privacy mode `address` may be the entry's HMAC id, which the answer then echoes.
  const params = entryParams(store.hashesAddresses);

  api.get('/suppressions/:address', async (req, res) => {
    const { address } = parseInput(params, req.params, 'params');
    const entry = await store.get(address);
    if (!entry) throw notSuppressed();
    res.json({ address, entry });
  });

  api.delete('/suppressions/:address', async (req, res) => {
    const { address } = parseInput(params, req.params, 'params');
    if (!(await store.remove(address))) throw notSuppressed();
    logger.info({ by: principalOf(res) }, 'admin.suppression_removed');
    res.json({ removed: true, address });
  });

  return api;
}
