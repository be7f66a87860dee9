// Loads configuration once: process environment over an optional .env file, validated by the
// schema, every bad key reported in one error, the result frozen. The only reader of process.env.
import fs from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { RelayError } from '../shared/errors.js';
import { envSchema, type Config, type EnvInput } from './schema.js';

export function parseConfig(env: EnvInput): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(environment)';
      const given = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
      return `  ${key}: ${issue.message}${given === undefined ? '' : ` (got "${given}")`}`;
    });
    throw new RelayError('CONFIG_INVALID', `Invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
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
