// Configuration keys that hold secrets: they may come from a file named by `<NAME>_FILE` (Docker and
// Kubernetes secrets), and the logger censors them. A module of its own, importing nothing, so the
// logger can use it without depending on the configuration schema.
export const SECRET_KEYS = [
  // A URL that may carry the Redis password (redis://:password@host).
  'REDIS_URL',
  'REDIS_SENTINEL_PASSWORD',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'ADMIN_TOKEN',
  'ADMIN_PASSWORD',
  'METRICS_TOKEN',
  'SUPPRESSION_HASH_KEY',
] as const;
