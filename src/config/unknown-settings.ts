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

/** Kubernetes adds these for every service in the namespace (a service "redis" gives REDIS_PORT). */
const SERVICE_LINK = /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$|_PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?$/;

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

export function unknownSettings(env: EnvInput): UnknownSetting[] {
  const known = Object.keys(envSchema.in.shape);
  return Object.keys(env)
    .filter((name) => FAMILIES.has(name.split('_')[0]!) && name.includes('_'))
    .filter((name) => !known.includes(name) && !OTHER_NAMES.has(name) && !SERVICE_LINK.test(name))
    .sort()
    .map((name) => {
      const [best] = known
        .map((key) => ({ key, score: distance(name, key) }))
        .sort((a, b) => a.score - b.score);
      return { name, suggestion: best && best.score <= 3 ? best.key : undefined };
    });
}
