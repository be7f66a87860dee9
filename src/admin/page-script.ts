// The admin page's browser script, first part: talking to the JSON API with the page's credentials,
// formatting, and the stats view (cards and an SVG chart). Plain ES2020 run as-is by the browser; it
// builds every element with textContent, never innerHTML, so data can never become markup.
// Written without backticks or dollar-brace so it can live in this template string.
import { PAGE_SCRIPT_PANELS } from './page-script-panels.js';

const CORE = String.raw`
var TOKEN_KEY = 'ses-relay-admin-token';
var API = '/admin/api';
var SVG_NS = 'http://www.w3.org/2000/svg';
// SES reviews an account at a 5% bounce or 0.1% complaint rate and may pause it at 10% / 0.5%.
var RATE_LEVELS = { bounce: [0.05, 0.1], complaint: [0.001, 0.005] };

function $(id) { return document.getElementById(id); }
function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (key) {
    if (key === 'text') node.textContent = attrs[key];
    else if (key === 'className') node.className = attrs[key];
    else node.setAttribute(key, attrs[key]);
  });
  (children || []).forEach(function (child) { if (child) node.append(child); });
  return node;
}
function svg(tag, attrs, text) {
  var node = document.createElementNS(SVG_NS, tag);
  Object.keys(attrs).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
  if (text !== undefined) node.textContent = text;
  return node;
}
function say(text, isError) {
  var status = $('status');
  status.textContent = text;
  status.className = isError ? 'error' : '';
}
function fmtInt(n) { return n === null || n === undefined ? '–' : Number(n).toLocaleString('en'); }
function fmtPct(r) { return r === null || r === undefined ? 'no sends' : (r * 100).toFixed(r < 0.01 ? 3 : 2) + ' %'; }
function fmtTime(ms) {
  return ms === null || ms === undefined ? '–' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}
function fmtAge(ms) {
  if (ms === null || ms === undefined) return 'none waiting';
  var s = Math.round(ms / 1000);
  if (s < 90) return s + ' s';
  var m = Math.round(s / 60);
  return m < 90 ? m + ' min' : Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
}
function level(rate, limits) {
  if (rate === null || rate === undefined) return 'ok';
  return rate >= limits[1] ? 'critical' : rate >= limits[0] ? 'warning' : 'ok';
}

// Set while a token just typed in is tried, so that a 401 says the token was wrong.
var signingIn = false;

async function api(method, path, body, options) {
  var opts = options || {};
  var headers = { Accept: opts.accept || 'application/json' };
  var token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined && !opts.raw) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(body);
  }
  if (opts.contentType) headers['Content-Type'] = opts.contentType;
  var res = await fetch(API + path, { method: method, headers: headers, body: body, credentials: 'same-origin' });
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('sign-out').hidden = true;
    showSignIn();
    var denied = new Error(signingIn ? 'That token was not accepted.' : 'Sign in to continue.');
    denied.status = 401;
    throw denied;
  }
  if (opts.blob && res.ok) return res.blob();
  var data = await res.json().catch(function () { return null; });
  if (!res.ok) {
    var err = new Error(data && data.error ? data.error.message : 'HTTP ' + res.status);
    err.status = res.status;
    throw err;
  }
  // Every API answer is a JSON object: anything else (say, a file) is not what was asked for.
  if (data === null || typeof data !== 'object') throw new Error('Unexpected answer from the server (not JSON).');
  return data;
}

function card(title, value, note, cls) {
  var dd = el('dd', { className: cls || '' }, [document.createTextNode(value)]);
  if (note) dd.append(el('small', { text: note }));
  return el('div', {}, [el('dt', { text: title }), dd]);
}

function renderGlance(stats) {
  var sent = stats.days.reduce(function (sum, d) { return sum + d.sent; }, 0);
  var q = stats.queue.counts;
  var quota = stats.quota;
  var quotaText = quota.max24HourSend === null
    ? fmtInt(quota.sentLast24Hours)
    : fmtInt(quota.sentLast24Hours) + ' / ' + fmtInt(quota.max24HourSend);
  var quotaNote = quota.account === null ? 'SES account not read yet'
    : quota.max24HourSend === null ? 'no 24-hour limit'
    : fmtPct(quota.used) + ' used, ' + fmtInt(quota.headroom) + ' left';
  var bounceLevel = level(stats.rates.bounceRate, RATE_LEVELS.bounce);
  var complaintLevel = level(stats.rates.complaintRate, RATE_LEVELS.complaint);
  $('glance').replaceChildren(
    card('Sent, last ' + stats.days.length + ' days', fmtInt(sent), 'recipients'),
    card('Bounce rate, 30 days', fmtPct(stats.rates.bounceRate), bounceLevel + ' · ' + fmtInt(stats.rates.bouncedHard) + ' hard bounces', 'level-' + bounceLevel),
    card('Complaint rate, 30 days', fmtPct(stats.rates.complaintRate), complaintLevel + ' · ' + fmtInt(stats.rates.complained) + ' complaints', 'level-' + complaintLevel),
    card('Queue', fmtInt(q.waiting + q.prioritized) + ' waiting', fmtInt(q.active) + ' active · ' + fmtInt(q.delayed) + ' delayed · ' + fmtInt(q.failed) + ' failed'),
    card('Oldest waiting', fmtAge(stats.queue.oldestWaitingAgeMs), stats.queue.paused ? 'queue paused' : ''),
    card('SES quota, 24 hours', quotaText, quotaNote),
    card('Pacing', stats.pacing.ratePerSecond === null ? '–' : stats.pacing.ratePerSecond + ' /s',
      quota.account ? 'SES allows ' + quota.account.maxSendRate + ' /s' : 'no worker has reported'),
    card('Suppressed addresses', fmtInt(stats.suppressions.count), '')
  );
  var hold = stats.hold;
  var banner = $('hold-banner');
  banner.hidden = false;
  banner.className = 'banner ' + (hold ? 'hold' : 'running');
  banner.textContent = hold
    ? 'Sending is on hold (' + hold.by + ') since ' + fmtTime(hold.since) + ': ' + hold.reason
    : 'Sending is running.';
  $('sending-state').textContent = banner.textContent;
}

var SERIES = [
  { key: 'sent', label: 'Sent', color: '#4a78b5', axis: 'left' },
  { key: 'bounced', label: 'Bounced', color: '#b3261e', axis: 'right' },
  { key: 'complained', label: 'Complained', color: '#b35c00', axis: 'right' }
];
var TICKS = 4;
// A scale of TICKS equal steps covering v, each step a whole, round number (1, 2, 2.5, 3, 4, 5, 6
// or 8 times a power of ten, never below 1), so that no tick reads "0.25 sent".
function niceScale(v) {
  var raw = Math.max(v, 1) / TICKS;
  if (raw <= 1) return { step: 1, max: TICKS };
  var p = Math.pow(10, Math.floor(Math.log10(raw)));
  var steps = [1, 2, 2.5, 3, 4, 5, 6, 8, 10];
  for (var i = 0; i < steps.length; i++) {
    var step = steps[i] * p;
    if (step >= raw && step % 1 === 0) return { step: step, max: step * TICKS };
  }
  return { step: 10 * p, max: 10 * p * TICKS };
}
function fmtTick(n) { return n >= 10000 ? fmtInt(n / 1000) + 'k' : fmtInt(n); }

var lastDays = null;
// Drawn at the width it is shown at (not scaled from a fixed one), so its text keeps its CSS size
// on a phone; narrow charts get slimmer margins and label every second or third day.
function renderChart(days) {
  lastDays = days;
  var W = Math.max(300, Math.min(Math.round($('chart').clientWidth || 760), 1200));
  var narrow = W < 560;
  var H = narrow ? 220 : 280, L = narrow ? 40 : 56, R = narrow ? 34 : 48, T = 24, B = 28;
  var plotW = W - L - R, plotH = H - T - B, step = plotW / Math.max(days.length, 1);
  var labelEvery = Math.max(1, Math.ceil(40 / step));
  var left = niceScale(Math.max.apply(null, days.map(function (d) { return d.sent; }).concat([0])));
  var right = niceScale(Math.max.apply(null, days.map(function (d) { return Math.max(d.bounced, d.complained); }).concat([0])));
  var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'aria-labelledby': 'chart-title chart-desc' });
  root.append(svg('title', { id: 'chart-title' }, 'Sent, bounced and complained per day'));
  var total = function (k) { return days.reduce(function (s, d) { return s + d[k]; }, 0); };
  root.append(svg('desc', { id: 'chart-desc' }, days.length + ' days: ' + total('sent') + ' sent, ' + total('bounced') + ' bounced, ' + total('complained') + ' complained.'));
  for (var i = 0; i <= TICKS; i++) {
    var y = T + plotH - (plotH * i) / TICKS;
    root.append(svg('line', { x1: L, x2: W - R, y1: y, y2: y, stroke: '#d0d7de', 'stroke-width': 1 }));
    root.append(svg('text', { class: 'tick', x: L - 6, y: y + 4, 'text-anchor': 'end' }, fmtTick(left.step * i)));
    root.append(svg('text', { class: 'tick', x: W - R + 6, y: y + 4 }, fmtTick(right.step * i)));
  }
  days.forEach(function (d, i) {
    var h = (d.sent / left.max) * plotH;
    var bar = svg('rect', { class: 'bar-sent', x: L + i * step + step * 0.15, y: T + plotH - h, width: step * 0.7, height: h, fill: SERIES[0].color });
    bar.append(svg('title', {}, d.day + ': ' + d.sent + ' sent, ' + d.bounced + ' bounced, ' + d.complained + ' complained'));
    root.append(bar);
    // Counted from the newest day, which always has its label.
    if ((days.length - 1 - i) % labelEvery === 0)
      root.append(svg('text', { class: 'day', x: L + i * step + step / 2, y: H - B + 18, 'text-anchor': 'middle' }, d.day.slice(5)));
  });
  SERIES.slice(1).forEach(function (s, n) {
    var points = days.map(function (d, i) {
      return (L + i * step + step / 2).toFixed(1) + ',' + (T + plotH - (d[s.key] / right.max) * plotH).toFixed(1);
    });
    root.append(svg('polyline', { class: 'line-' + s.key, points: points.join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': n === 1 ? '5 3' : 'none' }));
    points.forEach(function (p) {
      var xy = p.split(',');
      root.append(n === 0 ? svg('circle', { cx: xy[0], cy: xy[1], r: 3, fill: s.color })
        : svg('rect', { x: xy[0] - 3, y: xy[1] - 3, width: 6, height: 6, fill: s.color }));
    });
  });
  root.append(svg('text', { x: 4, y: 14 }, 'sent'), svg('text', { x: W - 4, y: 14, 'text-anchor': 'end' }, 'bounced / complained'));
  $('chart').replaceChildren(root);
  $('chart-legend').replaceChildren.apply($('chart-legend'), SERIES.map(function (s) {
    var sw = el('span', { className: 'swatch swatch-' + s.key, 'aria-hidden': 'true' });
    return el('span', {}, [sw, document.createTextNode(s.label + (s.axis === 'left' ? ' (bars, left scale)' : ' (line, right scale)'))]);
  }));
  renderDaysTable(days);
}
var resizing = 0;
window.addEventListener('resize', function () {
  cancelAnimationFrame(resizing);
  resizing = requestAnimationFrame(function () { if (lastDays) renderChart(lastDays); });
});

function renderDaysTable(days) {
  var head = el('tr', {}, ['Day', 'Sent', 'Delivered', 'Bounced', 'Hard bounces', 'Complained'].map(function (h) { return el('th', { scope: 'col', text: h }); }));
  var rows = days.map(function (d) {
    return el('tr', {}, [d.day, d.sent, d.delivered, d.bounced, d.bouncedHard, d.complained].map(function (v, i) {
      return el(i === 0 ? 'th' : 'td', i === 0 ? { scope: 'row', text: v } : { text: fmtInt(v) });
    }));
  });
  $('days-table').replaceChildren(el('table', {}, [el('thead', {}, [head]), el('tbody', {}, rows)]));
}

// When the figures on show were read; null until the first load.
var loadedAt = null;
// A failed refresh leaves the last figures up, dimmed and dated, rather than blank or "Loading…".
function markStale(err) {
  var stale = $('stale');
  stale.hidden = false;
  stale.textContent = loadedAt === null
    ? 'Figures could not be loaded: ' + err.message + '.'
    : 'Figures are from ' + fmtTime(loadedAt) + ' and may be out of date: ' + err.message + '.';
  $('app').classList.add('stale');
  if (loadedAt === null) $('sending-state').textContent = 'Unknown: ' + err.message + '.';
}

async function loadStats() {
  var stats;
  try {
    stats = await api('GET', '/stats?days=14');
  } catch (err) {
    if (err.status !== 401) markStale(err);
    throw err;
  }
  renderGlance(stats);
  renderChart(stats.days);
  loadedAt = Date.now();
  $('stale').hidden = true;
  $('app').classList.remove('stale');
  // "Forget token" only once a token has worked.
  $('sign-out').hidden = !sessionStorage.getItem(TOKEN_KEY);
  return stats;
}
`;

/** The whole script: one function scope, strict mode, both parts. */
export const PAGE_SCRIPT = `(function () {\n'use strict';\n${CORE}\n${PAGE_SCRIPT_PANELS}\n})();\n`;
