// Password checks for SMTP AUTH: bcrypt against the stored hash, or against a dummy hash as costly as
// the most expensive one in the file when the user does not exist, so an unknown name never answers
// faster than a real one (a real user with a cheaper hash still answers faster: hence the warning
// about hashes cheaper than the file's dearest at load). Verified credentials are remembered for a
// while because bcryptjs at cost 12 costs ~0.8 s of CPU per check, and many SMTP clients
// authenticate once per message.
import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** Used when no hash in the file says otherwise; the cost `ses-relay user hash` writes by default. */
export const DEFAULT_BCRYPT_COST = 12;
/** Hashes below this cost are logged at load: cheap to guess offline, and quicker to answer. */
export const MIN_RECOMMENDED_BCRYPT_COST = 10;
/**
 * The highest cost `ses-relay user hash` writes and the users file accepts. bcrypt allows up to 31,
 * but each step doubles the time of every login (cost 15 takes about 6 s here), and an unknown name
 * is checked against a dummy hash as costly as the dearest in the file: one hash of cost 20 would let
 * anyone who sends AUTH with made-up names keep the CPU busy for minutes per attempt.
 */
export const MAX_BCRYPT_COST = 15;
/** Upper bound of remembered credentials, so a flood of distinct valid logins cannot grow memory. */
const MAX_CACHED_CREDENTIALS = 10_000;

export interface PasswordVerifier {
  /**
   * True when `password` matches `hash`; with `hash` undefined (no such user), does the same work and
   * says false. Concurrent checks of the same username and password share one bcrypt run, whether
   * or not the user exists, so a burst of parallel attempts costs the same for both.
   */
  verify(username: string, password: string, hash: string | undefined): Promise<boolean>;
  /** Chooses the dummy's cost: the highest cost among the hashes in use. */
  useCostOf(hashes: readonly string[]): void;
  /** Forgets remembered credentials (after a reload, a changed password must be checked afresh). */
  clear(): void;
}

/**
 * A syntactically valid bcrypt hash that no password matches in practice: bcrypt derives a hash
 * from the salt and compares, so checking against it costs exactly what a real check costs.
 */
export function dummyHash(cost: number): string {
  return `$2b$${String(cost).padStart(2, '0')}$${'.'.repeat(22)}${'A'.repeat(31)}`;
}

/** The cost the dummy check uses: the highest in use, or the default for an empty file. */
export function dummyCost(hashes: readonly string[]): number {
  return hashes.length === 0
    ? DEFAULT_BCRYPT_COST
    : Math.max(...hashes.map((hash) => bcrypt.getRounds(hash)));
}

export function createPasswordVerifier(options: { cacheTtlMs: number }): PasswordVerifier {
  let dummy = dummyHash(DEFAULT_BCRYPT_COST);
  // Keys are HMACs under a per-process random key: neither map holds a password, and their keys
  // are useless outside this process.
  const secret = randomBytes(32);
  const verified = new Map<string, number>();
  // Concurrent checks of the same credentials share one bcrypt run (a client pool logging in at
  // once). Keyed by username too, and used for unknown names alike: were only real users' checks
  // shared, N parallel guesses would cost one run for a real name and N for an unknown one, and
  // the answer time would tell which names exist.
  const inFlight = new Map<string, Promise<boolean>>();

  const keyOf = (username: string, password: string, hash: string) =>
    createHmac('sha256', secret)
      .update(username)
      .update('\0')
      .update(hash)
      .update('\0')
      .update(password)
      .digest('base64');

  function remember(key: string): void {
    if (options.cacheTtlMs <= 0) return;
    verified.delete(key);
    verified.set(key, Date.now() + options.cacheTtlMs);
    // Maps iterate in insertion order: the first key is the oldest.
    if (verified.size > MAX_CACHED_CREDENTIALS) verified.delete(verified.keys().next().value ?? '');
  }

  return {
    async verify(username, password, hash) {
      // bcrypt ignores everything after 72 bytes; a longer password would match on its prefix alone.
      const real = hash !== undefined && !bcrypt.truncates(password);
      const against = real ? hash : dummy;
      const key = keyOf(username, password, against);
      if (real) {
        const expires = verified.get(key);
        if (expires !== undefined && expires > Date.now()) return true;
      }
      let check = inFlight.get(key);
      if (!check) {
        check = bcrypt.compare(password, against).finally(() => inFlight.delete(key));
        inFlight.set(key, check);
      }
      // Against the dummy, false whatever bcrypt says.
      const ok = (await check) && real;
      if (ok) remember(key);
      return ok;
    },
    useCostOf(hashes) {
      dummy = dummyHash(dummyCost(hashes));
    },
    clear() {
      verified.clear();
    },
  };
}
