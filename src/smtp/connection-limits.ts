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
