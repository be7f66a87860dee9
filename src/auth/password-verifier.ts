// Password checks for SMTP AUTH: bcrypt against the stored hash, or against a dummy hash as costly as
// the most expensive one in the file when the user does not exist, so an unknown name never answers
// faster than a real one (a real user with a cheaper hash still answers faster: hence the warning
// about weak hashes at load). Verified credentials are remembered for a while because bcryptjs at
// cost 12 costs ~0.8 s of CPU per check, and many SMTP clients authenticate once per message.
import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** Used when no hash in the file says otherwise; the cost `ses-relay user hash` writes by default. */
export const DEFAULT_BCRYPT_COST = 12;
/** Hashes below this cost are logged at load: cheap to guess offline, and quicker to answer. */
export const MIN_RECOMMENDED_BCRYPT_COST = 10;
/** Upper bound of remembered credentials, so a flood of distinct valid logins cannot grow memory. */
const MAX_CACHED_CREDENTIALS = 10_000;

export interface PasswordVerifier {
  /** True when `password` matches `hash`; with `hash` undefined, does the same work and says false. */
  verify(password: string, hash: string | undefined): Promise<boolean>;
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

/** Whether a hash is cheaper than MIN_RECOMMENDED_BCRYPT_COST. */
export function isWeakHash(hash: string): boolean {
  return bcrypt.getRounds(hash) < MIN_RECOMMENDED_BCRYPT_COST;
}

export function createPasswordVerifier(options: { cacheTtlMs: number }): PasswordVerifier {
  let dummy = dummyHash(DEFAULT_BCRYPT_COST);
  // Cache keys are HMACs under a per-process random key: the cache never holds a password, and its
  // keys are useless outside this process.
  const secret = randomBytes(32);
  const verified = new Map<string, number>();
  // Concurrent checks of the same credentials share one bcrypt run.
  const inFlight = new Map<string, Promise<boolean>>();

  const cacheKey = (password: string, hash: string) =>
    createHmac('sha256', secret).update(hash).update('\0').update(password).digest('base64');

  function remember(key: string): void {
    if (options.cacheTtlMs <= 0) return;
    verified.delete(key);
    verified.set(key, Date.now() + options.cacheTtlMs);
    // Maps iterate in insertion order: the first key is the oldest.
    if (verified.size > MAX_CACHED_CREDENTIALS) verified.delete(verified.keys().next().value ?? '');
  }

  return {
    async verify(password, hash) {
      // bcrypt ignores everything after 72 bytes; a longer password would match on its prefix alone.
      if (hash === undefined || bcrypt.truncates(password)) {
        await bcrypt.compare(password, dummy);
        return false;
      }
      const key = cacheKey(password, hash);
      const expires = verified.get(key);
      if (expires !== undefined && expires > Date.now()) return true;
      let check = inFlight.get(key);
      if (!check) {
        check = bcrypt.compare(password, hash).finally(() => inFlight.delete(key));
        inFlight.set(key, check);
      }
      const ok = await check;
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
