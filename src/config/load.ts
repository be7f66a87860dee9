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
    // Trimmed as every other value is: a CRLF env file would otherwise name `secret\r`.
    const file = env[`${key}_FILE`]?.trim();
    if (file === undefined || file === '') continue;
    if ((env[key] ?? '').trim() !== '') {
      problems.push(`  ${key}_FILE: set together with ${key}; use one of them`);
      continue;
    }
    try {
      resolved[key] = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`  ${key}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    // An empty secret would read as "not set" and turn its protection off without a word.
    if (resolved[key]?.trim() === '') problems.push(`  ${key}_FILE: ${file} is empty`);
  }
  return { env: resolved, problems };
}

/** `fileProblems`: lines about the .env file, reported together with the values' problems. */
export function parseConfig(input: EnvInput, fileProblems: string[] = []): Config {
  const resolved = resolveSecretFiles(input);
  const { env } = resolved;
  const problems = [...fileProblems, ...resolved.problems];
  const result = envSchema.safeParse(env);
  if (!result.success || problems.length > 0) {
    const lines = [...problems, ...(result.success ? [] : describeIssues(result.error.issues, env))];
    throw new RelayError('CONFIG_INVALID', `Invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

/**
 * Secrets whose bad value is never echoed. REDIS_URL is echoed with its password hidden
 * (hidePassword): the rest of a mistyped URL is what the operator needs to see.
 */
const SECRET_NAMES = new Set<string>(SECRET_KEYS.filter((key) => key !== 'REDIS_URL'));

function describeIssues(issues: z.core.$ZodIssue[], env: EnvInput): string[] {
  return issues.map((issue) => {
    const key = issue.path.join('.') || '(environment)';
    const name = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
    // Echo what was given, except for secrets.
    const given = name === undefined || SECRET_NAMES.has(name) ? undefined : env[name];
    return `  ${key}: ${issue.message}${given === undefined ? '' : ` (got "${visible(hidePassword(given))}")`}`;
  });
}

/**
 * Control characters written as escapes: a value ending in `\r` (a CRLF env file) would otherwise
 * send the terminal's cursor back over the message, and a newline would split it.
 */
function visible(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\x00-\x1f\x7f]/g, (char) =>
    char === '\r' ? '\\r' : char === '\n' ? '\\n' : `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/**
 * A URL's `user:password@` part, as echoed in a message, becomes `***@`: a mistyped REDIS_URL
 * must not put its password into the logs. The match is loose on purpose: `rediss//:pw@host` is caught too.
 * After `//`, everything up to the last `@` goes: a password with an unescaped `@` or `/` in it would
 * otherwise leave its tail in view.
 */
export function hidePassword(value: string): string {
  const slashes = value.indexOf('//');
  const at = value.lastIndexOf('@');
  if (slashes >= 0 && at > slashes) return `${value.slice(0, slashes + 2)}***${value.slice(at)}`;
  return value.replace(/(^|\/)[^/@\s]*:[^/@\s]*@/g, '$1***@');
}

/**
 * Lines of a .env file that dotenv would skip or misread without a word: `NAME value`, `=value`, a
 * stray word; an unquoted `#` that is not after a space (dotenv ends the value there: a generated
 * secret `k3y#rest` would become `k3y`, while Docker Compose reads the whole of it); a quote that is
 * never closed. A quoted value may span lines; its continuation lines are not checked.
 */
export function dotenvProblems(text: string, file: string): string[] {
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  const entries: DotenvEntry[] = [];
  for (let index = 0; index < lines.length; index++) {
    const at = `  ${file} line ${index + 1}:`;
    const trimmed = lines[index]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(\s*)(["'`]?)(.*)$/.exec(trimmed);
    if (!match) {
      problems.push(`${at} expected NAME=value`);
      continue;
    }
    const [, name = '', space = '', quote = '', rest = ''] = match;
    const first = index;
    if (quote === '') {
      // A # right after `=` or after another character is part of the value for Compose, a
      // comment for dotenv; after white space it is a comment for both.
      const hash = rest.indexOf('#');
      if (hash >= 0 && (hash > 0 ? !/\s/.test(rest[hash - 1]!) : space === '')) {
        problems.push(`${at} ${name}: quote a value that contains # (unquoted, dotenv cuts it at the #)`);
      }
    } else if (!rest.includes(quote)) {
      const closing = closingLine(lines, index, quote);
      if (closing === undefined) {
        problems.push(`${at} ${name}: unterminated quote (${quote}): dotenv keeps it in the value`);
      } else index = closing;
    }
    entries.push({ name, line: first + 1, text: lines.slice(first, index + 1).join('\n') });
  }
  return [...problems, ...repeatedNames(entries, file)];
}

interface DotenvEntry {
  name: string;
  line: number;
  text: string;
}

/**
 * Names given twice with different values: dotenv takes the last, without a word, so an operator who
 * adds a line at the top of a long file changes nothing. The values are not echoed (secrets).
 * The same value twice is harmless and passes.
 */
function repeatedNames(entries: readonly DotenvEntry[], file: string): string[] {
  const seen = new Map<string, { line: number; value: string | undefined }>();
  const problems: string[] = [];
  for (const { name, line, text } of entries) {
    const value = parseDotenv(text)[name];
    const earlier = seen.get(name);
    if (earlier && earlier.value !== value) {
      problems.push(
        `  ${file} line ${line}: ${name}: set again with another value (also on line ${earlier.line}); dotenv takes the last: keep one`,
      );
    }
    seen.set(name, { line, value });
  }
  return problems;
}

/**
 * The line that ends a quoted value left open on line `from`, as dotenv reads it: the first later
 * line with the quote, when only white space or a comment follows the quote there. Otherwise none:
 * dotenv then reads the opening line unquoted (the quote kept in the value) and the following lines
 * on their own.
 */
function closingLine(lines: readonly string[], from: number, quote: string): number | undefined {
  for (let index = from + 1; index < lines.length; index++) {
    const at = lines[index]!.indexOf(quote);
    if (at >= 0) return /^\s*(#.*)?$/.test(lines[index]!.slice(at + 1)) ? index : undefined;
  }
  return undefined;
}

/**
 * Reads `.env` from the working directory (if present) under the real environment. DOTENV_PATH
 * names another file, which must then exist; an empty DOTENV_PATH reads no file.
 */
export function loadConfig(overrides: EnvInput = {}): Config {
  const { env, fileProblems } = loadEnvironment(overrides);
  return parseConfig(env, fileProblems);
}

/** The environment the configuration is parsed from: .env under the real environment. */
export function loadEnvironment(overrides: EnvInput = {}): { env: EnvInput; fileProblems: string[] } {
  let fileEnv: EnvInput = {};
  const named = process.env.DOTENV_PATH;
  const envPath = named ?? '.env';
  const fileProblems: string[] = [];
  if (named !== '' && (named !== undefined || fs.existsSync(envPath))) {
    try {
      const text = fs.readFileSync(envPath, 'utf8');
      fileProblems.push(...dotenvProblems(text, envPath));
      fileEnv = parseDotenv(text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      fileProblems.push(`  DOTENV_PATH: cannot read ${envPath} (${code})`);
    }
  }
  return { env: { ...fileEnv, ...process.env, ...overrides }, fileProblems };
}

/**
 * Whether explicit keys or the AWS default credential chain have anything to work with (used by the
 * demo, on .env under the environment). The gateway's own key setting counts from its file too.
 */
export function hasAwsCredentialHints(env: EnvInput = process.env): boolean {
  return [
    'AWS_ACCESS_KEY_ID',
    'AWS_ACCESS_KEY_ID_FILE',
    'AWS_PROFILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ].some((key) => (env[key] ?? '') !== '');
}
