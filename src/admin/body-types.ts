// The media types the admin API reads. A state change never arrives in a form encoding
// (application/x-www-form-urlencoded, multipart/form-data, text/plain): those are what an HTML form
// on another site can send without a CORS preflight, so refusing them keeps a forged request out
// even from a browser that sent no Origin. JSON routes take application/json; the import takes the
// list formats it names; the queue dashboard's own routes take anything but a form encoding.
import express from 'express';
import { IMPORT_PATH } from './api-suppressions.js';
import { AdminError } from './errors.js';

/** JSON bodies are small commands; anything bigger is a mistake or an attack. */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

/** What an import may be sent as (or with no Content-Type, then told apart by its first line). */
export const IMPORT_CONTENT_TYPES: readonly string[] = [
  'text/csv',
  'application/x-ndjson',
  'application/jsonl',
  'application/json-lines',
  'application/json',
  'application/octet-stream',
];

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What an HTML form can send to another site without a CORS preflight. */
const FORM_TYPES: ReadonlySet<string> = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);

/** The media type of a Content-Type header, lower-case, without parameters; undefined when absent. */
function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type || undefined;
}

function unsupported(message: string): AdminError {
  return new AdminError('ADMIN_UNSUPPORTED_MEDIA_TYPE', message, { field: 'body' });
}

/**
 * Refuses a state change in a form encoding, even with an empty body. For the queue dashboard, whose
 * routes are the board's; the API's routes refuse every type but their own (apiBodies).
 */
export function refuseFormBodies(
  req: express.Request,
  _res: express.Response,
  next: express.NextFunction,
): void {
  const type = mediaType(req.headers['content-type']);
  const form = !SAFE_METHODS.has(req.method) && type !== undefined && FORM_TYPES.has(type);
  next(form ? unsupported('body: send application/json, not a form encoding') : undefined);
}

/**
 * Checks the Content-Type of each API request, then parses JSON bodies (the import reads its own).
 * Compared as Express routes match: case-insensitively, with or without a trailing slash.
 */
export function apiBodies(): express.RequestHandler {
  const json = express.json({ limit: JSON_BODY_LIMIT_BYTES });
  return (req, res, next) => {
    const type = mediaType(req.headers['content-type']);
    const changes = !SAFE_METHODS.has(req.method);
    if (req.path.toLowerCase().replace(/\/$/, '') === IMPORT_PATH) {
      if (changes && type !== undefined && !IMPORT_CONTENT_TYPES.includes(type))
        return next(unsupported(`body: send the list as ${IMPORT_CONTENT_TYPES.join(', ')}`));
      return next();
    }
    // A body that is not JSON would be ignored, and `retry-failed` without its limit retries all.
    // An empty body needs no type (clients send `Content-Length: 0` on a POST without one), but an
    // empty form is still a form.
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
    if ((hasBody || (changes && type !== undefined)) && type !== 'application/json')
      return next(unsupported('body: send application/json'));
    json(req, res, next);
  };
}
