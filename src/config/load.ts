// Loads configuration once: process environment over an optional .env file, validated by the
// schema, every bad key reported in one error, the result frozen. The only reader of process.env.
import fs from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import type { z } from 'zod';
import { RelayError } from '../shared/errors.js';
import { envSchema, type Config, type EnvInput } from './schema.js';
import { SECRET_KEYS } from './secret-keys.js';

/**
 * Reads `<SECRET>_FILE` into `<SECRET>`: the file's content without its trailing newline. Problems
 * are reported like any bad value; a secret's value itself never appears in a message.
 */
function resolveSecretFiles(env: EnvInput): { env: EnvInput; problems: string[] } {
  const resolved: EnvInput = { ...env };
  const problems: string[] = [];
  for (const key of SECRET_KEYS) {
    const file = env[`${key}_FILE`];
    if (file === undefined || file === '') continue;
    if ((env[key] ?? '') !== '') {
      problems.push(`  ${key}_FILE: set together with ${key}; use one of them`);
      continue;
    }
    try {
      resolved[key] = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`  ${key}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return { env: resolved, problems };
}

export function parseConfig(input: EnvInput): Config {
  const { env, problems } = resolveSecretFiles(input);
  const result = envSchema.safeParse(env);
  if (!result.success || problems.length > 0) {
    const lines = [...problems, ...(result.success ? [] : describeIssues(result.error.issues, env))];
    throw new RelayError('CONFIG_INVALID', `Invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

const SECRET_NAMES = new Set<string>(SECRET_KEYS);

function describeIssues(issues: z.core.$ZodIssue[], env: EnvInput): string[] {
  return issues.map((issue) => {
    const key = issue.path.join('.') || '(environment)';
    const name = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
    // Echo what was given, except for secrets.
    const given = name === undefined || SECRET_NAMES.has(name) ? undefined : env[name];
    return `  ${key}: ${issue.message}${given === undefined ? '' : ` (got "${given}")`}`;
  });
}

/** Reads `.env` from the working directory (if present) under the real environment. */
export function loadConfig(overrides: EnvInput = {}): Config {
  let fileEnv: EnvInput = {};
  const envPath = process.env.DOTENV_PATH ?? '.env';
  if (fs.existsSync(envPath)) fileEnv = parseDotenv(fs.readFileSync(envPath));
  return parseConfig({ ...fileEnv, ...process.env, ...overrides });
}

/** Whether the AWS default credential chain has anything to work with (used by the demo). */
export function hasAwsCredentialHints(env: EnvInput = process.env): boolean {
  return [
    'AWS_ACCESS_KEY_ID',
    'AWS_PROFILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ].some((key) => (env[key] ?? '') !== '');
}
