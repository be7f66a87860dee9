// Which URLs from an SNS message the gateway will ever call: https, no port or user info, and on the
// SNS endpoint of the topic's region exactly (sns.<region>.amazonaws.com, .amazonaws.com.cn in
// China), as AWS's Java validator requires. A looser host pattern also matched other services'
// hosts, e.g. the legacy S3 endpoint sns.s3-us-west-2.amazonaws.com of a bucket named "sns".
// Both the signing certificate URL and the SubscribeURL go through here (otherwise: SSRF).
import { snsRegionalHost, snsTopicRegion } from './sns-signing-names.js';

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

function checkSnsUrl(value: string, topicArn: string | null): UrlCheck {
  let url: URL;
  try {
    // WHATWG parsing, the same parser fetch uses, so what is checked is what is requested.
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'not https' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'has user info' };
  if (url.port !== '') return { ok: false, reason: 'has a port' };
  if (topicArn === null) return { ok: false, reason: 'names no topic' };
  const topic = snsTopicRegion(topicArn);
  if (!topic.ok) return topic;
  const host = snsRegionalHost(topic);
  if (url.hostname !== host) {
    return {
      ok: false,
      reason: `host ${url.hostname} does not match the topic's region ${topic.region} (expected ${host})`,
    };
  }
  return { ok: true, url };
}

/** `topicArn`: the message's TopicArn, already on the allow-list; it decides the one host allowed. */
export function checkSigningCertUrl(value: string, topicArn: string): UrlCheck {
  const check = checkSnsUrl(value, topicArn);
  if (!check.ok) return check;
  const { url } = check;
  if (!url.pathname.endsWith('.pem') || url.search !== '' || url.hash !== '') {
    return { ok: false, reason: 'path is not a .pem file' };
  }
  return check;
}

/**
 * `topicArn`: the message's TopicArn. Without it, the TopicArn the URL itself names is used (every
 * ConfirmSubscription URL names its topic, and the URL is covered by the message's signature).
 */
export function checkSubscribeUrl(value: string, topicArn?: string): UrlCheck {
  let named: string | null = null;
  try {
    named = new URL(value).searchParams.get('TopicArn');
  } catch {
    // Reported as "not a URL" below.
  }
  const check = checkSnsUrl(value, topicArn ?? named);
  if (!check.ok) return check;
  // A signed SubscribeURL is SNS's own; checking the action as well costs nothing.
  if (check.url.searchParams.get('Action') !== 'ConfirmSubscription') {
    return { ok: false, reason: 'not a ConfirmSubscription URL' };
  }
  return check;
}
