// Which URLs from an SNS message the gateway will ever call: https, an SNS host, no port or user
// info. The host rule is AWS's own validators' (the fact sheet, section 1); AWS publishes no grammar.
// Both the signing certificate URL and the SubscribeURL go through here (otherwise: SSRF).

export const SNS_HOST_PATTERN = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

function checkSnsUrl(value: string): UrlCheck {
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
  if (!SNS_HOST_PATTERN.test(url.hostname)) return { ok: false, reason: `host ${url.hostname} is not SNS` };
  return { ok: true, url };
}

export function checkSigningCertUrl(value: string): UrlCheck {
  const check = checkSnsUrl(value);
  if (!check.ok) return check;
  const { url } = check;
  if (!url.pathname.endsWith('.pem') || url.search !== '' || url.hash !== '') {
    return { ok: false, reason: 'path is not a .pem file' };
  }
  return check;
}

export function checkSubscribeUrl(value: string): UrlCheck {
  const check = checkSnsUrl(value);
  if (!check.ok) return check;
  // A signed SubscribeURL is SNS's own; checking the action as well costs nothing.
  if (check.url.searchParams.get('Action') !== 'ConfirmSubscription') {
    return { ok: false, reason: 'not a ConfirmSubscription URL' };
  }
  return check;
}
