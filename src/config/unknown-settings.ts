// Names in the environment that look like the gateway's settings but are not (a typo such as
// SMTP_MAX_MESAGE_BYTES is otherwise ignored without a word). Start-up logs each as a warning.
import { envSchema, type EnvInput } from './schema.js';
import { SECRET_KEYS } from './secret-keys.js';

/** Names the gateway reads outside the schema. */
const OTHER_NAMES = new Set([
  'DOTENV_PATH',
  'SES_RELAY_SMTP_CHILD',
  ...SECRET_KEYS.map((key) => `${key}_FILE`),
]);

/**
 * The proxy variables are every HTTP client's convention, not a family of the gateway's: NO_COLOR or
 * HTTPS_CA_FILE are not typos of them.
 */
const CONVENTIONAL = new Set([
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
]);

/** AWS_* belongs to the AWS SDK and its tools; only the gateway's own families are checked. */
const FAMILIES = new Set(
  Object.keys(envSchema.in.shape)
    .filter((key) => !CONVENTIONAL.has(key))
    .map((key) => key.split('_')[0]!)
    .filter((family) => family !== 'AWS'),
);

/**
 * Names other tools read that are a short edit away from a setting (FTP_PROXY from HTTP_PROXY): the
 * rest of the proxy convention, which the gateway does not use.
 */
const OTHER_TOOLS = new Set(['FTP_PROXY', 'ftp_proxy', 'ALL_PROXY', 'all_proxy']);

/**
 * Kubernetes adds these for every service in the namespace (a service "redis" gives REDIS_PORT), as
 * Docker links did. A bare `<SERVICE>_PORT` is one only by its value (`tcp://10.0.0.9:6379`):
 * SMPT_PORT=2525 is a typo.
 */
const SERVICE_LINK = /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$|_PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/;
const SERVICE_PORT = /^(tcp|udp|sctp):\/\//;

const isServiceLink = (name: string, value: string | undefined) =>
  SERVICE_LINK.test(name) || (name.endsWith('_PORT') && SERVICE_PORT.test(value ?? ''));

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

export interface UnknownSetting {
  name: string;
  /** The closest real setting, when the name looks like a typo of it. */
  suggestion?: string | undefined;
}

/**
 * The most edits a name outside the gateway's families may be from a setting to be reported as a
 * typo of it (SMPT_PORT, RDIS_URL, METRIC_TOKEN); one for short names, as ROLE, so that an unrelated
 * short name is not taken for one. Compared without regard to case (smtp_port).
 */
const lookAlikeEdits = (name: string) => (name.length <= 6 ? 1 : 2);

export function unknownSettings(env: EnvInput): UnknownSetting[] {
  const known = Object.keys(envSchema.in.shape);
  const closest = (name: string, compare: (name: string) => string) =>
    known
      .map((key) => ({ key, score: distance(compare(name), compare(key)) }))
      .sort((a, b) => a.score - b.score)[0];
  const upper = (name: string) => name.toUpperCase();
  return Object.keys(env)
    .filter((name) => !known.includes(name) && !OTHER_NAMES.has(name) && !OTHER_TOOLS.has(name))
    .filter((name) => !name.startsWith('AWS_') && !isServiceLink(name, env[name]))
    .sort()
    .flatMap((name) => {
      if (FAMILIES.has(name.split('_')[0]!) && name.includes('_')) {
        const best = closest(name, (text) => text);
        return [{ name, suggestion: best && best.score <= 3 ? best.key : undefined }];
      }
      // Outside the families (a typo in the first word, or of a one-word setting): only a near miss.
      const best = closest(name, upper);
      return best && best.score <= lookAlikeEdits(name) ? [{ name, suggestion: best.key }] : [];
    });
}
