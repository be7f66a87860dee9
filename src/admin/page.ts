// The admin page (GET /admin): one static HTML document with its style and script inline, no build
// step. A Content-Security-Policy allows exactly those two inline blocks by hash and lets the script
// talk only to this origin, so even an address crafted to look like markup cannot run as code.
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';
import { QUEUE_BOARD_PATH } from './queue-board.js';

export interface AdminPage {
  html: string;
  /** The Content-Security-Policy header value to send with `html`. */
  csp: string;
}

export interface AdminPageOptions {
  /** Whether ADMIN_USER/ADMIN_PASSWORD are set: Bull Board opens only with basic auth. */
  basicAuth: boolean;
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The dashboard is navigated to, and a navigation cannot carry the page's bearer token: it opens
 * only with basic credentials, which the browser sends itself. Without basic auth configured the
 * link would lead to a 401, so it is replaced by a note saying what the dashboard needs.
 */
function boardLink(options: AdminPageOptions): string {
  if (!options.basicAuth)
    return `<span id="board-off" class="hint">Queue dashboard: needs basic auth (set ADMIN_USER and ADMIN_PASSWORD)</span>`;
  return String.raw`<a href="${QUEUE_BOARD_PATH}/">Queue dashboard</a>
    <span id="board-hint" class="hint" hidden>(asks for ADMIN_USER/ADMIN_PASSWORD)</span>`;
}

const body = (options: AdminPageOptions) => String.raw`
<header>
  <h1>ses-relay admin</h1>
  <nav aria-label="Admin">
    ${boardLink(options)}
    <button type="button" class="secondary" id="refresh">Refresh</button>
    <button type="button" class="secondary" id="sign-out" hidden>Forget token</button>
  </nav>
</header>
<div id="status" role="status" aria-live="polite"></div>
<form id="token-form" hidden>
  <h2>Sign in</h2>
  <p class="hint">Enter the admin token (ADMIN_TOKEN). It is kept in this browser tab only.</p>
  <p><label for="token">Admin token</label>
    <input id="token" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button></p>
</form>
<main id="app">
  <section aria-labelledby="glance-h">
    <h2 id="glance-h">At a glance</h2>
    <p id="stale" class="banner stale" role="alert" hidden></p>
    <div id="hold-banner" class="banner" role="note" hidden></div>
    <dl id="glance" class="cards"></dl>
  </section>
  <section aria-labelledby="chart-h">
    <h2 id="chart-h">Feedback, last 14 days</h2>
    <div id="chart"></div>
    <div id="chart-legend" class="legend"></div>
    <details><summary>The same figures as a table</summary><div id="days-table"></div></details>
  </section>
  <section aria-labelledby="sending-h">
    <h2 id="sending-h">Sending</h2>
    <p id="sending-state">Loading…</p>
    <form id="pause-form" class="row">
      <label>Reason for the pause<input id="pause-reason" name="reason" required maxlength="500"></label>
      <button type="submit" class="danger" id="pause">Pause sending</button>
    </form>
    <p>
      <button type="button" id="resume">Resume sending</button>
      <button type="button" class="secondary" id="retry-failed">Retry failed jobs</button>
    </p>
  </section>
  <section aria-labelledby="supp-h">
    <h2 id="supp-h">Suppression list</h2>
    <h3>Find</h3>
    <form id="supp-search" class="row" role="search">
      <label>Address (or entry id)<input id="supp-address" name="address" required autocomplete="off"></label>
      <button type="submit">Search</button>
    </form>
    <div id="supp-result" aria-live="polite"></div>
    <h3>Add</h3>
    <form id="supp-add" class="row">
      <label>Address<input id="add-address" name="address" required autocomplete="off"></label>
      <label>Reason<select id="add-reason" name="reason">
        <option value="manual">manual</option><option value="bounce">bounce</option>
        <option value="complaint">complaint</option><option value="imported">imported</option>
      </select></label>
      <button type="submit">Add to the list</button>
    </form>
    <h3>Import and export</h3>
    <form id="supp-import" class="row">
      <label>CSV or JSON lines file<input id="import-file" type="file" required
        accept=".csv,.jsonl,.ndjson,.json,.txt,text/csv,application/x-ndjson"></label>
      <button type="submit" class="secondary">Import</button>
    </form>
    <div id="import-result" aria-live="polite"></div>
    <p>Export the whole list:
      <button type="button" class="secondary" data-export="csv">CSV</button>
      <button type="button" class="secondary" data-export="jsonl">JSON lines</button></p>
  </section>
  <section aria-labelledby="msg-h">
    <h2 id="msg-h">Message lookup</h2>
    <form id="msg-form" class="row" role="search">
      <label>Queue id, Message-ID or SES MessageId<input id="msg-id" name="id" required autocomplete="off"></label>
      <button type="submit">Look up</button>
    </form>
    <div id="msg-result" aria-live="polite"></div>
  </section>
</main>
`;

export function buildAdminPage(options: AdminPageOptions): AdminPage {
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    '<title>ses-relay admin</title>',
    // An empty icon: otherwise the browser asks for /favicon.ico, outside /admin, and logs a 404.
    '<link rel="icon" href="data:,">',
    `<style>${PAGE_STYLE}</style>`,
    '</head>',
    '<body>',
    body(options),
    `<script>${PAGE_SCRIPT}</script>`,
    '</body>',
    '</html>',
  ].join('\n');
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(PAGE_SCRIPT)}`,
    `style-src ${sha256(PAGE_STYLE)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}
