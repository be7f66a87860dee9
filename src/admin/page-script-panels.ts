// The admin page's browser script, second part: sending controls, the suppression search, add,
// remove, import and export, the message lookup, token sign-in and start-up. It runs in the same
// function scope as the first part (page-script.ts) and uses its helpers.
export const PAGE_SCRIPT_PANELS = String.raw`
function action(fn) {
  return function (event) {
    if (event) event.preventDefault();
    Promise.resolve().then(fn).catch(function (err) { say(err.message, true); });
  };
}
function record(pairs) {
  var dl = el('dl', { className: 'record' });
  pairs.forEach(function (p) {
    if (p[1] === undefined || p[1] === null || p[1] === '') return;
    dl.append(el('dt', { text: p[0] }), el('dd', { text: String(p[1]) }));
  });
  return dl;
}

// Sending: pause with a reason (recorded in the shared hold), resume, retry failed jobs.
$('pause-form').addEventListener('submit', action(async function () {
  var reason = $('pause-reason').value.trim();
  var result = await api('POST', '/queue/pause', { reason: reason });
  say(result.fresh ? 'Sending paused.' : 'Sending was already on hold: ' + result.hold.reason);
  $('pause-reason').value = '';
  await loadStats();
}));
$('resume').addEventListener('click', action(async function () {
  var result = await api('POST', '/queue/resume', {});
  say(result.previous ? 'Sending resumed (the hold was: ' + result.previous.reason + ').' : 'Sending was not on hold.');
  await loadStats();
}));
// Asked first, with the count: each retried job sends its message again. At most the jobs counted
// are retried (oldest failure first), even if more fail while the question is open.
$('retry-failed').addEventListener('click', action(async function () {
  var failed = (await loadStats()).queue.counts.failed;
  if (!failed) {
    say('There are no failed jobs to retry.');
    return;
  }
  var question = 'Retry ' + fmtInt(failed) + ' failed job(s)? Each goes back to the queue with fresh attempts ' +
    'and its message is sent again. A message that fails again sends its sender no second failure notice.';
  if (!window.confirm(question)) {
    say('Nothing was retried.');
    return;
  }
  var result = await api('POST', '/queue/retry-failed', { limit: failed });
  say(result.retried + ' failed job(s) moved back to the queue.');
  await loadStats();
}));

// Suppressions: exact lookup (the list is ordered by hash, so there is no prefix search).
// address: as asked for and normalised; entry.address is an HMAC when the store runs in privacy mode.
function showEntry(address, entry) {
  var remove = el('button', { type: 'button', className: 'danger', id: 'supp-remove', text: 'Remove from the list' });
  remove.addEventListener('click', action(async function () {
    await api('DELETE', '/suppressions/' + encodeURIComponent(address));
    $('supp-result').replaceChildren(el('p', { text: address + ' was removed; mail to it will be sent again.' }));
    say(address + ' removed from the suppression list.');
    await loadStats();
  }));
  $('supp-result').replaceChildren(record([
    ['Address', address], ['Stored as', entry.address === address ? '' : entry.address], ['Reason', entry.reason], ['Since', fmtTime(entry.firstSeen)],
    ['Last event', fmtTime(entry.lastSeen)], ['Events', entry.count],
    ['Expires', entry.expiresAt ? fmtTime(entry.expiresAt) : 'never'],
    ['Bounce', entry.bounceType ? entry.bounceType + '/' + (entry.bounceSubType || '') : ''],
    ['Diagnostic', entry.diagnosticCode], ['Complaint type', entry.complaintFeedbackType],
    ['SES MessageId', entry.sesMessageId]
  ]), remove);
}
// What the lookup takes: an address, or (privacy mode) the 64-hex-digit id the list shows for one.
var ENTRY_ID = /^[0-9a-fA-F]{64}$/;
$('supp-search').addEventListener('submit', action(async function () {
  var address = $('supp-address').value.trim();
  if (address.indexOf('@') === -1 && !ENTRY_ID.test(address)) {
    $('supp-result').replaceChildren(el('p', { className: 'error',
      text: 'Enter an email address, or in privacy mode the 64-hex-digit id the list shows.' }));
    say('');
    return;
  }
  try {
    var found = await api('GET', '/suppressions/' + encodeURIComponent(address));
    if (!found.entry) throw new Error('Unexpected answer from the server.');
    showEntry(found.address, found.entry);
    say('');
  } catch (err) {
    if (err.status !== 404) throw err;
    $('supp-result').replaceChildren(el('p', { text: address + ' is not on the suppression list.' }));
    say('');
  }
}));
$('supp-add').addEventListener('submit', action(async function () {
  var body = { address: $('add-address').value.trim(), reason: $('add-reason').value };
  var result = await api('POST', '/suppressions', body);
  say(result.address + (result.created ? ' added to' : ' updated on') + ' the suppression list.');
  $('add-address').value = '';
  $('supp-address').value = result.address;
  showEntry(result.address, result.entry);
  await loadStats();
}));
// The type goes by the file name; the server tells other files apart by their first line.
function importType(name) {
  var ext = name.toLowerCase().split('.').pop();
  if (ext === 'csv') return 'text/csv';
  return ext === 'jsonl' || ext === 'ndjson' ? 'application/x-ndjson' : 'application/octet-stream';
}
// The lines that were not imported, each with its reason (the server sends the first few).
function importProblems(r) {
  var details = r.errorDetails || [];
  if (details.length === 0) return [];
  var heading = r.invalid > details.length
    ? 'The first ' + details.length + ' of ' + fmtInt(r.invalid) + ' lines not imported:'
    : 'Lines not imported:';
  return [el('p', { text: heading }), el('ul', { className: 'problems' }, details.map(function (d) {
    return el('li', { text: 'Line ' + d.line + ': ' + d.error });
  }))];
}
$('supp-import').addEventListener('submit', action(async function () {
  var file = $('import-file').files[0];
  if (!file) return;
  say('Importing ' + file.name + '…');
  $('import-result').replaceChildren();
  var r;
  try {
    r = await api('POST', '/suppressions/import', file, { raw: true, contentType: importType(file.name) });
  } catch (err) {
    throw new Error('Could not import ' + file.name + ': ' + err.message);
  }
  say('Imported ' + file.name + ': ' + r.added + ' added, ' + r.updated + ' updated, ' + r.invalid + ' invalid.', r.invalid > 0);
  $('import-result').replaceChildren.apply($('import-result'), importProblems(r));
  await loadStats();
}));
document.querySelectorAll('[data-export]').forEach(function (button) {
  button.addEventListener('click', action(async function () {
    var format = button.getAttribute('data-export');
    var accept = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
    var blob = await api('GET', '/suppressions/export?format=' + format, undefined, { blob: true, accept: accept });
    var url = URL.createObjectURL(blob);
    var link = el('a', { href: url, download: 'suppressions.' + format });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }));
});

// Message lookup: the timeline as an ordered list, oldest first.
function describe(e) {
  switch (e.type) {
    case 'accepted':
      return 'Accepted from ' + e.clientIp + (e.user ? ' (user ' + e.user + ')' : '') + ': ' + (e.from || '<>') +
        ' to ' + e.recipients.join(', ') + ', ' + fmtInt(e.size) + ' bytes, Message-ID ' + e.messageId;
    case 'ses-call':
      return 'SES call, chunk ' + e.chunk + ' (' + e.recipients + ' recipient(s)): ' + e.outcome +
        (e.sesMessageId ? ', SES MessageId ' + e.sesMessageId : '') + (e.error ? ': ' + e.error : '');
    case 'failed':
      return 'Failed: ' + e.reason;
    case 'ses-event':
      return e.event + ' for ' + e.recipients.join(', ') + (e.detail ? ': ' + e.detail : '');
    default:
      return JSON.stringify(e);
  }
}
$('msg-form').addEventListener('submit', action(async function () {
  var id = $('msg-id').value.trim();
  var m;
  try {
    m = await api('GET', '/messages/' + encodeURIComponent(id));
  } catch (err) {
    if (err.status !== 404) throw err;
    $('msg-result').replaceChildren(el('p', { text: 'No message is traced under ' + id + ' (or its trace has expired).' }));
    return;
  }
  var s = m.summary;
  var job = m.job;
  var items = m.events.map(function (e) {
    return el('li', {}, [el('time', { datetime: new Date(e.at).toISOString(), text: fmtTime(e.at) }),
      el('span', { className: 'tag', text: e.type === 'ses-event' ? e.event : e.type }), document.createTextNode(describe(e))]);
  });
  $('msg-result').replaceChildren(record([
    ['Queue id', m.queueId], ['From', s.from], ['Recipients', s.recipients.join(', ')],
    ['Accepted', fmtTime(s.acceptedAt)], ['Last SES outcome', s.lastOutcome],
    ['SES MessageIds', s.sesMessageIds.join(', ')],
    ['Job', job ? job.state + ', attempt ' + job.attemptsMade + (job.attempts ? ' of ' + job.attempts : '') : 'no longer in the queue'],
    ['Failure', job && job.failedReason]
  ]), el('h3', { text: 'Timeline' }), el('ol', { className: 'timeline' }, items));
  say('');
}));

// Sign-in for token auth: basic auth is carried by the browser, a token is kept in sessionStorage.
function showSignIn() {
  $('token-form').hidden = false;
  $('app').hidden = true;
  $('token').focus();
}
$('token-form').addEventListener('submit', action(async function () {
  sessionStorage.setItem(TOKEN_KEY, $('token').value);
  $('token').value = '';
  $('token-form').hidden = true;
  $('app').hidden = false;
  signingIn = true;
  try {
    await loadStats();
  } finally {
    signingIn = false;
  }
  showBoardHint();
  say('Signed in.');
}));
$('sign-out').addEventListener('click', function () {
  sessionStorage.removeItem(TOKEN_KEY);
  $('sign-out').hidden = true;
  showSignIn();
});
$('refresh').addEventListener('click', action(loadStats));

// A navigation cannot carry the token, so the dashboard asks for basic auth. Without basic auth
// configured there is no link, only a note (page.ts).
function showBoardHint() {
  var hint = $('board-hint');
  if (hint) hint.hidden = !sessionStorage.getItem(TOKEN_KEY);
}
showBoardHint();
action(loadStats)();
// Figures refresh every 30 s while the tab is visible.
setInterval(function () { if (!document.hidden && $('app').hidden === false) action(loadStats)(); }, 30000);
`;
