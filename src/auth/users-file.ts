// SMTP_USERS_FILE: the accounts that may AUTH, each with its sending policy. Loaded at start-up (a bad
// file stops start-up with every problem listed), then reloaded when the file changes or on reload()
// (SIGHUP); a bad reload keeps the users already loaded, so open sessions and logins keep working.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import YAML from 'yaml';
import { errorMessage, RelayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { serialize, watchFiles } from '../tls/watch-files.js';
import { createPasswordVerifier, dummyCost, MIN_RECOMMENDED_BCRYPT_COST } from './password-verifier.js';
import { validateUsers, type SmtpUser, type StoredUser } from './users-schema.js';

export type { SmtpUser } from './users-schema.js';

/** How long a verified username/password pair skips bcrypt; 0 turns the cache off. */
export const DEFAULT_AUTH_CACHE_TTL_MS = 5 * 60 * 1000;

export class UsersFileError extends RelayError {
  constructor(
    readonly filePath: string,
    /** One line per problem: `users[2] ("app").tags.team: ...`. */
    readonly issues: string[],
  ) {
    super(
      'CONFIG_INVALID',
      `SMTP_USERS_FILE ${filePath} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  ${issue}`).join('\n'),
    );
    this.name = 'UsersFileError';
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

// Parser messages are reduced to a position and a reason: V8 and yaml both quote the offending
// source, which in this file may be a password someone pasted by mistake.
function parseText(text: string, filePath: string): { data: unknown } | { issues: string[] } {
  if (path.extname(filePath).toLowerCase() === '.json') {
    try {
      return { data: JSON.parse(text) as unknown };
    } catch (err) {
      const message = errorMessage(err);
      const position = /at position (\d+)/.exec(message)?.[1];
      const reason = /^Unexpected token/.test(message)
        ? 'unexpected character'
        : message
            .split('"')[0]
            ?.replace(/ in JSON at position .*$/s, '')
            .replace(/[\s,.]+$/, '');
      const where = position === undefined ? '' : ` at ${lineColumn(text, Number(position))}`;
      return { issues: [`not valid JSON${where}: ${reason}`] };
    }
  }
  // Any other extension is read as YAML, which also takes JSON.
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((e) => `not valid YAML at ${lineColumn(text, e.pos[0])}: ${e.message}`),
    };
  }
  return { data: doc.toJS({ maxAliasCount: 100 }) as unknown };
}

/** Parses and validates the text of a users file; `filePath` picks the format and names the file. */
export function parseUsersText(text: string, filePath: string): StoredUser[] {
  const parsed = parseText(text, filePath);
  if ('issues' in parsed) throw new UsersFileError(filePath, parsed.issues);
  const result = validateUsers(parsed.data);
  if (!result.ok) throw new UsersFileError(filePath, result.issues);
  return result.users;
}

async function readUsersFile(filePath: string): Promise<{ users: StoredUser[]; digest: string }> {
  let text: string;
  try {
    text = await fs.readFile(filePath, 'utf8');
  } catch (err) {
    throw new UsersFileError(filePath, [`cannot be read: ${errorMessage(err)}`]);
  }
  return { users: parseUsersText(text, filePath), digest: createHash('sha256').update(text).digest('hex') };
}

export type ReloadOutcome =
  { ok: true; users: number; changed: boolean } | { ok: false; error: UsersFileError };

export interface UserDirectory {
  /** The user when the password is right; undefined otherwise, in the same time whether or not it exists. */
  authenticate(username: string, password: string): Promise<SmtpUser | undefined>;
  get(username: string): SmtpUser | undefined;
  /** Every user as loaded now. */
  list(): SmtpUser[];
  /** Reads the file again (SIGHUP). Never rejects: a bad file is logged and the old users stay. */
  reload(): Promise<ReloadOutcome>;
  readonly size: number;
  close(): void;
}

export interface UserDirectoryOptions {
  path: string;
  logger: Logger;
  /** Called after every reload attempt, e.g. for a metric; not after the initial load. */
  onReload?: (outcome: ReloadOutcome) => void;
  cacheTtlMs?: number;
  debounceMs?: number;
}

/**
 * Names every user whose hash is cheaper than the file's dearest (an unknown name is checked at that
 * cost, so this user's quicker answers tell that the name exists) or than MIN_RECOMMENDED_BCRYPT_COST
 * (quick to guess offline). Names and costs only: a hash, even a weak one, stays out of the log.
 */
function warnWeakHashes(log: Logger, stored: readonly StoredUser[]): void {
  const maxCost = dummyCost(stored.map((entry) => entry.passwordHash));
  const target = Math.max(maxCost, MIN_RECOMMENDED_BCRYPT_COST);
  const weak = stored
    .map((entry) => ({ username: entry.user.username, cost: bcrypt.getRounds(entry.passwordHash) }))
    .filter((entry) => entry.cost < target);
  if (weak.length === 0) return;
  const why: string[] = [];
  if (weak.some((entry) => entry.cost < maxCost)) {
    why.push(
      `cheaper than the file's dearest hash (cost ${maxCost}), which an unknown name is checked ` +
        'against: quicker answers tell that the name exists',
    );
  }
  if (weak.some((entry) => entry.cost < MIN_RECOMMENDED_BCRYPT_COST)) {
    why.push(`below cost ${MIN_RECOMMENDED_BCRYPT_COST}: quick to guess offline`);
  }
  log.warn(
    {
      users: weak,
      maxCost,
      minCost: MIN_RECOMMENDED_BCRYPT_COST,
      why: why.join('; '),
      fix: `rehash each with \`ses-relay user hash --cost ${target}\``,
    },
    'auth.users.weak_hash',
  );
}

/** Loads the file (rejecting with a UsersFileError that lists every problem) and starts watching it. */
export async function createUserDirectory(options: UserDirectoryOptions): Promise<UserDirectory> {
  const log = options.logger.child({ usersFile: options.path });
  const verifier = createPasswordVerifier({ cacheTtlMs: options.cacheTtlMs ?? DEFAULT_AUTH_CACHE_TTL_MS });
  let users = new Map<string, StoredUser>();
  let digest = '';
  /** After a failed reload, a file back at the loaded content is a recovery worth reporting. */
  let failing = false;

  function install(loaded: { users: StoredUser[]; digest: string }): void {
    users = new Map(loaded.users.map((stored) => [stored.user.username, stored]));
    digest = loaded.digest;
    verifier.useCostOf(loaded.users.map((stored) => stored.passwordHash));
    verifier.clear();
    warnWeakHashes(log, loaded.users);
  }

  install(await readUsersFile(options.path));
  log.info({ users: users.size }, 'auth.users.loaded');
  if (users.size === 0) log.warn('auth.users.empty');

  const load = async (force: boolean): Promise<ReloadOutcome> => {
    let outcome: ReloadOutcome;
    try {
      const loaded = await readUsersFile(options.path);
      if (!force && !failing && loaded.digest === digest)
        return { ok: true, users: users.size, changed: false };
      const changed = loaded.digest !== digest;
      install(loaded);
      failing = false;
      log.info({ users: users.size, changed }, 'auth.users.reloaded');
      outcome = { ok: true, users: users.size, changed };
    } catch (err) {
      const error =
        err instanceof UsersFileError ? err : new UsersFileError(options.path, [errorMessage(err)]);
      // A half-written file is common while an editor saves; the next event reloads the full one.
      log.error({ issues: error.issues }, 'auth.users.reload_failed');
      failing = true;
      outcome = { ok: false, error };
    }
    options.onReload?.(outcome);
    return outcome;
  };
  const reload = serialize(load);
  const watch = watchFiles([options.path], () => void reload(false), {
    logger: log,
    debounceMs: options.debounceMs,
  });

  return {
    async authenticate(username, password) {
      const stored = users.get(username);
      const ok = await verifier.verify(username, password, stored?.passwordHash);
      return ok && stored ? stored.user : undefined;
    },
    get(username) {
      return users.get(username)?.user;
    },
    list() {
      return [...users.values()].map((stored) => stored.user);
    },
    reload: () => reload(true),
    get size() {
      return users.size;
    },
    close() {
      watch.close();
    },
  };
}
