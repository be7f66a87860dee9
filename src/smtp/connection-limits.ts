// Connection limits of one listener process: a total and a per-client-address cap, checked when
// a session opens. Per process, not global: behind a load balancer each instance enforces its own.

export interface ConnectionLimits {
  /** Registers the session, or says which limit it would pass ('total' or 'ip'). */
  open(sessionId: string, ip: string): 'total' | 'ip' | undefined;
  close(sessionId: string): void;
  readonly count: number;
}

export function createConnectionLimits(maxTotal: number, maxPerIp: number): ConnectionLimits {
  const sessions = new Map<string, string>();
  const perIp = new Map<string, number>();
  return {
    open(sessionId, ip) {
      if (sessions.size >= maxTotal) return 'total';
      const current = perIp.get(ip) ?? 0;
      if (current >= maxPerIp) return 'ip';
      sessions.set(sessionId, ip);
      perIp.set(ip, current + 1);
      return undefined;
    },
    close(sessionId) {
      const ip = sessions.get(sessionId);
      if (ip === undefined) return;
      sessions.delete(sessionId);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(ip);
      else perIp.set(ip, left);
    },
    get count() {
      return sessions.size;
    },
  };
}

/**
 * smtp-server's `maxClients` for a gateway limit of `maxTotal`: about 10 % (at least 1) above it.
 * smtp-server counts a connection as soon as it is accepted and refuses past its limit before
 * onConnect runs, with its own `421 <name> Too many connected clients` (no enhanced code, no log line,
 * no metric). With room above the gateway's limit, the gateway's `421 4.7.0` is what clients meet,
 * and smtp-server's check only bounds the connections that have not reached onConnect yet (its 100 ms
 * greeting delay) or are still closing after a refusal. Per process, as the gateway's limit is.
 */
export function backstopMaxClients(maxTotal: number): number {
  return maxTotal + Math.max(1, Math.ceil(maxTotal / 10));
}
