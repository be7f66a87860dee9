// fast-check arbitraries for hostile input: SMTP sessions (valid and invalid commands, random bytes,
// DATA bodies with dots, odd line endings and long lines) and HTTP requests (methods, traversal
// paths, headers, bodies) for the webhook and admin routes. Values are plain data (latin1 strings
// for bytes) so that fast-check's counterexamples read as what went on the wire.
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------
// SMTP

/** Line endings: mostly CRLF, then the ones RFC 5321 forbids, and none (glued to the next step). */
export const lineEnding = fc.oneof(
  { weight: 8, arbitrary: fc.constant('\r\n') },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '', '\r\r\n', '\n\r') },
);

const junkAscii = fc.string({ unit: 'binary-ascii', maxLength: 40 });
/** Arbitrary bytes as a latin1 string (every char code 0–255). */
export const junkBytes = fc
  .uint8Array({ maxLength: 120 })
  .map((bytes) => Buffer.from(bytes).toString('latin1'));

const localPart = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,20}$/),
  fc.constantFrom(
    'app',
    'u',
    '"john.doe"',
    '"john doe"',
    '"a@b"',
    '"a\\"b"',
    'a,b',
    'a;b',
    '(c)a',
    '.a',
    'a.',
    'a..b',
    'jörg',
    'm\u00fcller',
    'a\u0000b',
    'a\rb',
    'a\u0001b',
    'x'.repeat(65),
    '',
    '<',
    'a>b',
  ),
);

const domainPart = fc.oneof(
  fc.domain(),
  fc.constantFrom(
    'example.com',
    'example.net',
    'münchen.example',
    'xn--mnchen-3ya.example',
    '..',
    '-.-',
    'a..b',
    'a_b.example',
    'localhost',
    '[127.0.0.1]',
    '[IPv6:::1]',
    'example.com.',
    `${'d'.repeat(64)}.example`,
    '',
  ),
);

export const envelopeAddress = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(localPart, domainPart).map(([l, d]) => `${l}@${d}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '@', 'postmaster', '@relay.example:u@example.net') },
  { weight: 1, arbitrary: junkAscii },
);

/** The path as a client writes it: usually <addr>, sometimes mangled brackets or injected text. */
const addressPath = fc.oneof(
  { weight: 8, arbitrary: envelopeAddress.map((a) => `<${a}>`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(envelopeAddress, envelopeAddress)
      .chain(([a, b]) => fc.constantFrom(a, `<${a}`, `${a}>`, `<<${a}>>`, `<${a}> <${b}>`, `<${a}>${b}>`)),
  },
);

const mailParam = fc.constantFrom(
  ' SIZE=100',
  ' SIZE=999999999',
  ' SIZE=abc',
  ' SIZE=-1',
  ' BODY=8BITMIME',
  ' BODY=7BIT',
  ' BODY=FOO',
  ' SMTPUTF8',
  ' AUTH=<>',
  ' RET=HDRS',
  ' ENVID=x',
  ' NOTIFY=NEVER,SUCCESS',
  ' XYZ=1',
  ' =',
);

const b64 = (text: string) => Buffer.from(text, 'latin1').toString('base64');

/** Credentials the fuzz gateway knows, so that some AUTH attempts succeed. */
export const FUZZ_SMTP_USER = { username: 'fuzz', password: 'fuzz-password' };

const authCommand = fc.oneof(
  fc.constant(`AUTH PLAIN ${b64(`\0${FUZZ_SMTP_USER.username}\0${FUZZ_SMTP_USER.password}`)}`),
  fc.tuple(junkAscii, junkAscii).map(([u, p]) => `AUTH PLAIN ${b64(`\0${u}\0${p}`)}`),
  fc.constantFrom('AUTH PLAIN', 'AUTH PLAIN ====', 'AUTH LOGIN', 'AUTH CRAM-MD5', 'AUTH XOAUTH2 abc', 'AUTH'),
  junkAscii.map((text) => `AUTH LOGIN ${b64(text)}`),
);

/** One command line without its line ending. */
export const smtpCommand: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('EHLO', 'HELO', 'ehlo', 'LHLO'), fc.oneof(fc.domain(), junkAscii))
      .map(([c, h]) => `${c} ${h}`),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom('MAIL FROM:', 'mail from: ', 'MAIL FROM'),
        addressPath,
        fc.array(mailParam, { maxLength: 3 }),
      )
      .map(([verb, path, params]) => `${verb}${path}${params.join('')}`),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom('RCPT TO:', 'rcpt to: ', 'RCPT TO'),
        addressPath,
        fc.array(mailParam, { maxLength: 2 }),
      )
      .map(([verb, path, params]) => `${verb}${path}${params.join('')}`),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'DATA',
      'RSET',
      'NOOP',
      'NOOP hello',
      'QUIT',
      'HELP',
      'VRFY postmaster',
      'EXPN list',
      'STARTTLS',
      'BDAT 10 LAST',
      'ETRN example.com',
      'TURN',
      'XCLIENT ADDR=192.0.2.1',
      'XFORWARD ADDR=192.0.2.1',
      'WIZ',
      'SHELL',
      'KILL',
      'GET / HTTP/1.1',
      'POST /sns HTTP/1.0',
      '',
      ' ',
      '.',
    ),
  },
  { weight: 2, arbitrary: authCommand },
  { weight: 2, arbitrary: junkAscii },
  { weight: 2, arbitrary: junkBytes },
  // Over smtp-server's 16 KB command limit, or just under it.
  {
    weight: 1,
    arbitrary: fc.constantFrom(16 * 1024 - 10, 16 * 1024 + 10, 40_000).map((n) => `NOOP ${'A'.repeat(n)}`),
  },
);

/** A line of a message body: headers, folded lines, dots, long lines, random text and bytes. */
const dataLine = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'From: App <app@example.com>',
      'To: user@example.net',
      'Subject: fuzz',
      'Date: Mon, 1 Jan 2024 00:00:00 +0000',
      'Message-ID: <fuzz@example.com>',
      'Message-ID: <>',
      'Bcc: hidden@example.org',
      'X-SES-CONFIGURATION-SET: fuzz_set',
      'X-SES-CONFIGURATION-SET: not a set!',
      'X-SES-MESSAGE-TAGS: a=b, c=d, bad tag=x',
      'Content-Type: text/plain; charset=utf-8',
      '\tfolded continuation',
      ' folded continuation',
      'no colon header',
      ':empty name',
      '',
    ),
  },
  { weight: 3, arbitrary: fc.constantFrom('.', '..', '...', '.x', '. ', '.\r', '\r.', '\n.', '.\n') },
  { weight: 1, arbitrary: fc.integer({ min: 990, max: 1100 }).map((n) => `L${'o'.repeat(n - 2)}g`) },
  {
    weight: 3,
    arbitrary: fc
      .string({ unit: 'grapheme', maxLength: 60 })
      .map((t) => Buffer.from(t, 'utf8').toString('latin1')),
  },
  { weight: 2, arbitrary: junkBytes },
);

/** A message body as sent after DATA (not dot-stuffed unless `stuffed`), without the final dot. */
export const dataBody = fc
  .record({
    lines: fc.array(fc.tuple(dataLine, lineEnding), { maxLength: 25 }),
    stuffed: fc.boolean(),
    /** Pads the message past the fuzz gateway's size limit. */
    oversize: fc.oneof(
      { weight: 12, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.constantFrom(40_000, 70_000) },
    ),
  })
  .map(({ lines, stuffed, oversize }) => {
    let body = lines.map(([line, eol]) => line + eol).join('');
    if (stuffed) body = body.replace(/^\./gm, '..');
    if (oversize > 0) body += `${'x'.repeat(900)}\r\n`.repeat(Math.ceil(oversize / 902));
    return body;
  });

/** A well-formed transaction with a random body: keeps the queue busy while the rest is noise. */
export const transaction = fc
  .record({
    ehlo: fc.boolean(),
    from: fc.constantFrom('app@example.com', '', 'billing@example.com'),
    to: fc.array(fc.constantFrom('user@example.net', 'other@example.org', 'x@example.com'), {
      minLength: 1,
      maxLength: 3,
    }),
    headers: fc.boolean(),
    body: dataBody,
  })
  .map(({ ehlo, from, to, headers, body }) => {
    const head = headers ? 'From: App <app@example.com>\r\nTo: user@example.net\r\nSubject: t\r\n\r\n' : '';
    const stuffed = `${head}${body}`.replace(/(^|\r\n)\./g, '$1..');
    return [
      ...(ehlo ? ['EHLO fuzz.test\r\n'] : []),
      `MAIL FROM:<${from}>\r\n`,
      ...to.map((rcpt) => `RCPT TO:<${rcpt}>\r\n`),
      'DATA\r\n',
      `${stuffed}${stuffed.endsWith('\r\n') || stuffed === '' ? '' : '\r\n'}.\r\n`,
    ];
  });

/** One write (or, in lock-step sessions, one exchange) of a session. */
export const sessionStep = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(smtpCommand, lineEnding).map(([command, eol]) => [command + eol]) },
  { weight: 3, arbitrary: transaction },
  {
    weight: 1,
    arbitrary: fc
      .tuple(dataBody, fc.constantFrom('\r\n.\r\n', '.\r\n', '\n.\n', ''))
      .map(([body, end]) => [`DATA\r\n${body}${end}`]),
  },
  { weight: 1, arbitrary: junkBytes.map((bytes) => [bytes]) },
);

export interface SmtpSessionPlan {
  /** Writes before the greeting (smtp-server answers 421 "You talk too soon"). */
  early: boolean;
  /** Everything in one write (pipelining abuse) rather than waiting for each reply. */
  pipelined: boolean;
  /** Starts with a valid EHLO so that most sessions get past the greeting stage. */
  ehlo: boolean;
  writes: string[];
}

export const smtpSession: fc.Arbitrary<SmtpSessionPlan> = fc.record({
  early: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  pipelined: fc.boolean(),
  ehlo: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  writes: fc.array(sessionStep, { maxLength: 8 }).map((steps) => steps.flat()),
});

// ---------------------------------------------------------------------------------------------
// HTTP

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO'];

const pathSegment = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'admin',
      'api',
      'queues',
      'static',
      'stats',
      'messages',
      'suppressions',
      'export',
      'import',
      'queue',
      'pause',
      'resume',
      'retry-failed',
      'outbound',
      'sns',
      'metrics',
      'healthz',
      'readyz',
      'jobs',
      'clean',
      'logs',
      'x@example.com',
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2E%2e',
      '.%2e',
      '%2e.',
      '..%2f..',
      '%2f',
      '%2F..%2F',
      '%5c..%5c',
      '%00',
      '%',
      '%ZZ',
      '%E0%A4%A',
      '%C0%AE%C0%AE',
      '%252e%252e',
      '',
      ';',
      '..;',
      'index.html',
      'main.js',
      '%7Bfoo%7D',
    ),
  },
  { weight: 2, arbitrary: fc.webSegment() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map((s) => encodeURIComponent(s)) },
);

const ROOT_PATHS = [
  '/',
  '/healthz',
  '/readyz',
  '/metrics',
  '/sns',
  '/admin',
  '/admin/',
  '/admin/api/stats',
  '/admin/api/suppressions',
  '/admin/api/suppressions/export',
  '/admin/api/suppressions/import',
  '/admin/api/queue/pause',
  '/admin/api/queue/resume',
  '/admin/api/queue/retry-failed',
  '/admin/queues',
  '/admin/queues/',
  '/admin/queues/api/queues',
  '/admin/queues/api/redis/stats',
];

const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '?limit=-1',
      '?limit=1e9',
      '?cursor=%00',
      '?cursor=abc',
      '?a[b]=1&a[c]=2',
      '?limit[]=1',
      '?%',
      '?format=xml',
      '?format=jsonl',
      '?reason=bounce',
      '?activeQueue=outbound&status=latest&page=-1',
      '?=&&=',
    ),
  },
  { weight: 1, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) },
);

/** A request path as written on the request line: a known route, or segments with traversal tokens. */
export const requestPath = fc
  .tuple(
    fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...ROOT_PATHS) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom(...ROOT_PATHS), fc.array(pathSegment, { minLength: 1, maxLength: 4 }))
          .map(([root, segments]) => `${root.replace(/\/$/, '')}/${segments.join('/')}`),
      },
      {
        weight: 1,
        arbitrary: fc.array(pathSegment, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom('//admin/api/stats', '/admin//api//stats', '/ADMIN/API/STATS', '*'),
      },
    ),
    query,
  )
  .map(([path, q]) => path + q);

export type AuthChoice = 'none' | 'valid' | 'wrong' | 'garbage';

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin9',
  'application/json; charset=utf-16',
  'text/plain; charset=UTF-8',
  'text/csv',
  'application/x-ndjson',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'garbage',
  '',
);

const contentEncoding = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'zz', 'gzip, gzip') },
);

/** Nested arrays/objects: JSON nesting bombs, balanced or not. */
const nestingBomb = fc
  .tuple(fc.integer({ min: 100, max: 200_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([depth, open, balanced]) => {
    const close = open === '[' ? ']' : '}';
    return open.repeat(depth) + (balanced ? (open === '[' ? '' : '1') + close.repeat(depth) : '');
  });

const SNS_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation', 'Other', ''];

/** Objects shaped like SNS messages with wrong, missing or hostile fields (never validly signed). */
const snsLike = fc
  .record(
    {
      Type: fc.constantFrom(...SNS_TYPES),
      MessageId: fc.oneof(fc.uuid(), junkAscii),
      TopicArn: fc.constantFrom(
        'arn:aws:sns:us-east-1:123456789012:ses-feedback',
        'arn:aws:sns:us-east-1:1:other',
        '',
      ),
      Message: fc.oneof(fc.json(), junkAscii, nestingBomb),
      Timestamp: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        junkAscii,
      ),
      SignatureVersion: fc.constantFrom('1', '2', '3', ''),
      Signature: fc.oneof(fc.base64String({ maxLength: 40 }), junkAscii),
      SigningCertURL: fc.constantFrom(
        'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
        'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ffffffffffffffffffffffffffffffff.pem',
        'https://evil.example/cert.pem',
        'http://sns.us-east-1.amazonaws.com/x.pem',
        'file:///etc/passwd',
        'not a url',
      ),
      SubscribeURL: fc.constantFrom(
        'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
        'https://evil.example/',
      ),
      Token: junkAscii,
    },
    { requiredKeys: [] },
  )
  .map((message) => JSON.stringify(message));

/** An SES event for a validly signed notification: a fixture name plus field mutations. */
export interface SignedEventPlan {
  fixture: string;
  /** Dotted paths in the event replaced by hostile values. */
  mutations: [path: string, value: unknown][];
  rawMessage: string | undefined;
}

const SES_FIXTURES = [
  'bounce-permanent',
  'bounce-transient',
  'complaint-no-feedback',
  'complaint-with-feedback',
  'delivery-delay',
  'delivery',
  'reject',
];

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, '', 'a,b@example.com', '"q"@example.com', 'x'.repeat(5000), -1, 1e308, [], {}),
  junkAscii,
);

export const signedEvent: fc.Arbitrary<SignedEventPlan> = fc.record({
  fixture: fc.constantFrom(...SES_FIXTURES),
  mutations: fc.array(
    fc.tuple(
      fc.constantFrom(
        'eventType',
        'notificationType',
        'mail',
        'mail.messageId',
        'mail.destination',
        'mail.timestamp',
        'bounce',
        'bounce.bounceType',
        'bounce.bouncedRecipients',
        'bounce.bouncedRecipients.0.emailAddress',
        'complaint.complainedRecipients',
        'complaint.complainedRecipients.0.emailAddress',
        'complaint.complaintFeedbackType',
        'delivery.recipients',
      ),
      hostileValue,
    ),
    { maxLength: 3 },
  ),
  rawMessage: fc.oneof(
    { weight: 5, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.oneof(junkAscii, nestingBomb) },
  ),
});

export type HttpBody =
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; latin1: string }
  | { kind: 'repeat'; unit: string; bytes: number }
  | { kind: 'signed'; event: SignedEventPlan };

export const httpBody: fc.Arbitrary<HttpBody> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<HttpBody>({ kind: 'text', text: '' }) },
  { weight: 3, arbitrary: fc.json({ maxDepth: 4 }).map((text): HttpBody => ({ kind: 'text', text })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '{"reason":"fuzz"}',
        '{"address":"fuzz@example.com","reason":"manual"}',
        '{"address":"a,b@example.com"}',
        '{"limit":5}',
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
        'null',
        '"string"',
        '[]',
        '{"a":',
        'email\nfuzz@example.com\nnot-an-address\n',
        '{"address":"fuzz2@example.com"}\n{bad json}\n',
      )
      .map((text): HttpBody => ({ kind: 'text', text })),
  },
  { weight: 3, arbitrary: snsLike.map((text): HttpBody => ({ kind: 'text', text })) },
  { weight: 1, arbitrary: nestingBomb.map((text): HttpBody => ({ kind: 'text', text })) },
  { weight: 2, arbitrary: junkBytes.map((latin1): HttpBody => ({ kind: 'bytes', latin1 })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('x', '[', '{"a":1,', 'a@example.com\n'),
        fc.constantFrom(200 * 1024, 300 * 1024, 1100 * 1024),
      )
      .map(([unit, bytes]): HttpBody => ({ kind: 'repeat', unit, bytes })),
  },
  { weight: 3, arbitrary: signedEvent.map((event): HttpBody => ({ kind: 'signed', event })) },
);

export interface HttpRequestPlan {
  method: string;
  path: string;
  auth: AuthChoice;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  accept: string | undefined;
  secFetchSite: string | undefined;
  snsType: string | undefined;
  body: HttpBody;
}

export const httpRequest: fc.Arbitrary<HttpRequestPlan> = fc.record({
  method: fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...HTTP_METHODS) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,10}$/) },
  ),
  path: requestPath,
  auth: fc.constantFrom<AuthChoice>('none', 'valid', 'valid', 'wrong', 'garbage'),
  contentType,
  contentEncoding,
  accept: fc.constantFrom(
    undefined,
    'text/html',
    'application/json',
    '*/*',
    'text/html,application/json;q=0.9',
  ),
  secFetchSite: fc.constantFrom(undefined, undefined, 'same-origin', 'cross-site'),
  snsType: fc.constantFrom(undefined, ...SNS_TYPES),
  body: httpBody,
});

/** Requests Node's HTTP parser refuses before express sees them. */
export const rawHttpRequest: fc.Arbitrary<string> = fc.oneof(
  junkBytes.map((bytes) => `${bytes}\r\n\r\n`),
  fc.constantFrom(
    'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n',
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    'GET /hea\u0001lthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST /sns HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n',
    'POST /sns HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST /sns HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
    'GET /healthz\r\n\r\n',
    ' / HTTP/1.1\r\n\r\n',
  ),
);
