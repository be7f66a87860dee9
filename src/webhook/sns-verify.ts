// Verifies SNS message signatures (SignatureVersion 1 = RSA-SHA1, 2 = RSA-SHA256) for all three
// message types.
//
// Our own ~100 lines rather than a package: sns-validator fails every genuine
// UnsubscribeConfirmation, and sns-payload-validator caches the PEM text and parses it on every call
// (~180 µs, which caps one core near 5,600 messages/s; a parsed key verifies in ~30 µs). It also has
// no fetch timeout, no status check (an error page would be cached as a certificate) and a fixed URL
// rule, so tests can only inject a certificate through its cache. Here the parsed key is cached
// (bounded LRU), the fetch is bounded and injectable, and the certificate URL's host, the
// certificate's name and its validity are checked as AWS's own Java validator does, all derived from
// the region of the (allow-listed) TopicArn. Trust comes from the HTTPS fetch from that SNS host.
import crypto, { X509Certificate, type KeyObject } from 'node:crypto';
import { WebhookError } from './errors.js';
import { httpsGet } from './https-get.js';
import type { SnsMessage } from './sns-envelope.js';
import { signingCertNames, snsTopicRegion, type SnsTopicRegion } from './sns-signing-names.js';
import { checkSigningCertUrl, checkSubscribeUrl } from './sns-url.js';

export interface SnsVerifier {
  /** Resolves when the message is authentic; rejects with a WebhookError otherwise. */
  verify(message: SnsMessage): Promise<void>;
}

/** Returns the PEM text at an already-checked SNS certificate URL. */
export type CertificateFetcher = (url: URL) => Promise<string>;

export interface SnsVerifierOptions {
  fetchCertificate?: CertificateFetcher;
  cacheMaxEntries?: number;
  now?: () => number;
}

/** SNS answers in well under a second; the whole request must end inside SNS's own 15 s wait. */
export const CERT_FETCH_TIMEOUT_MS = 5_000;
/** A real SNS certificate is about 2 KB. */
export const CERT_MAX_BYTES = 16 * 1024;
/** AWS keeps one signing certificate per region at a time; 64 covers every region and a rotation. */
export const CERT_CACHE_MAX_ENTRIES = 64;

const ALGORITHM_BY_VERSION: Record<string, string> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' };

// Field lists from "Verifying the signatures of Amazon SNS messages": byte order, each as Name\nValue\n.
const SIGNED_FIELDS = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
} as const;

export function stringToSign(message: SnsMessage): string {
  const fields: Record<string, string | undefined> = message;
  let text = '';
  for (const name of SIGNED_FIELDS[message.Type]) {
    const value = fields[name];
    if (value !== undefined) text += `${name}\n${value}\n`;
  }
  return text;
}

export const defaultCertificateFetcher: CertificateFetcher = async (url) => {
  const response = await httpsGet(url, { timeoutMs: CERT_FETCH_TIMEOUT_MS, maxBytes: CERT_MAX_BYTES });
  if (response.status === 200) return response.body;
  // A 4xx from an SNS host means there is no such certificate: the message is not SNS's.
  if (response.status >= 400 && response.status < 500) {
    throw new WebhookError('SNS_SIGNATURE_INVALID', `certificate URL answered ${response.status}`);
  }
  throw new Error(`certificate URL answered ${response.status}`);
};

interface CachedKey {
  key: KeyObject;
  validFromMs: number;
  validToMs: number;
}

export function createSnsVerifier(options: SnsVerifierOptions = {}): SnsVerifier {
  const fetchCertificate = options.fetchCertificate ?? defaultCertificateFetcher;
  const maxEntries = options.cacheMaxEntries ?? CERT_CACHE_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on a hit and evicting the first key is an LRU.
  const cache = new Map<string, CachedKey>();
  const inflight = new Map<string, Promise<CachedKey>>();

  async function load(url: URL, topic: SnsTopicRegion): Promise<CachedKey> {
    let pem: string;
    try {
      pem = await fetchCertificate(url);
    } catch (err) {
      if (err instanceof WebhookError) throw err;
      throw new WebhookError('SNS_CERT_UNAVAILABLE', `could not fetch ${url.href}`, { cause: err });
    }
    const entry = parseCertificate(pem, url, topic);
    cache.set(url.href, entry);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    return entry;
  }

  // Keyed by URL alone: the URL's host is the region's own SNS endpoint, so every message that can
  // reach a cached key has a topic in the region whose certificate name was checked on load.
  async function keyFor(url: URL, topic: SnsTopicRegion): Promise<CachedKey> {
    const cached = cache.get(url.href);
    if (cached) {
      cache.delete(url.href);
      cache.set(url.href, cached);
      return cached;
    }
    // Concurrent first messages share one fetch.
    let pending = inflight.get(url.href);
    if (!pending) {
      pending = load(url, topic).finally(() => inflight.delete(url.href));
      inflight.set(url.href, pending);
    }
    return pending;
  }

  return {
    async verify(message) {
      const algorithm = ALGORITHM_BY_VERSION[message.SignatureVersion];
      if (!algorithm) throw invalid(`unsupported SignatureVersion ${message.SignatureVersion}`);
      const topic = snsTopicRegion(message.TopicArn);
      if (!topic.ok) throw invalid(topic.reason);
      const check = checkSigningCertUrl(message.SigningCertURL, message.TopicArn);
      if (!check.ok) throw invalid(`SigningCertURL refused: ${check.reason}`);
      const entry = await keyFor(check.url, topic);
      const at = now();
      if (at < entry.validFromMs || at > entry.validToMs)
        throw invalid('signing certificate is not valid now');
      const data = Buffer.from(stringToSign(message), 'utf8');
      const signature = Buffer.from(message.Signature, 'base64');
      if (!(await verifyOffThread(algorithm, data, entry.key, signature)))
        throw invalid('signature does not match');
      // The URL the webhook will GET is held to the same host rule as the certificate's.
      if (message.Type === 'SubscriptionConfirmation') {
        const subscribe = checkSubscribeUrl(message.SubscribeURL, message.TopicArn);
        if (!subscribe.ok) {
          throw new WebhookError('SNS_SUBSCRIBE_URL_INVALID', `SubscribeURL refused: ${subscribe.reason}`);
        }
      }
    },
  };
}

/**
 * The RSA check runs on libuv's thread pool (crypto.verify with a callback): about a quarter of a
 * notification's CPU leaves the event loop, which then serves more requests at once.
 */
function verifyOffThread(
  algorithm: string,
  data: Buffer,
  key: KeyObject,
  signature: Buffer,
): Promise<boolean> {
  return new Promise((resolve) => {
    // A signature the library cannot even parse is as wrong as one that does not match.
    crypto.verify(algorithm, data, key, signature, (err, valid) => resolve(!err && valid));
  });
}

function parseCertificate(pem: string, url: URL, topic: SnsTopicRegion): CachedKey {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new WebhookError('SNS_SIGNATURE_INVALID', `${url.href} is not a certificate`, { cause: err });
  }
  // AWS's validator checks the name the way a TLS client checks a host name; so does checkHost.
  const names = signingCertNames(topic);
  if (!names.some((name) => cert.checkHost(name) !== undefined)) {
    throw invalid(
      `the certificate's name (${cert.subject.replace(/\n/g, ', ')}) does not match what AWS uses for ` +
        `${topic.region}: ${names.join(' or ')}`,
    );
  }
  return {
    key: cert.publicKey,
    validFromMs: Date.parse(cert.validFrom),
    validToMs: Date.parse(cert.validTo),
  };
}

function invalid(message: string): WebhookError {
  return new WebhookError('SNS_SIGNATURE_INVALID', message);
}
