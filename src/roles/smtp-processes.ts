// SMTP_PROCESSES > 1: the smtp role runs in that many child processes (node:cluster), which share
// SMTP_PORT (and SMTP_TLS_PORT); the primary hands each new connection to one of them. One Node
// process takes one core, so this is how intake uses more cores on one host without a load
// balancer (Node 20 has no reusePort).
//
// The primary starts the children and waits until each listens, restarts a child that dies, asks
// them for their metrics when /metrics is scraped (a child late to answer counts with its last
// snapshot, a dead child's counts are kept: metrics/child-snapshots.ts), forwards SIGHUP, and stops
// them first on shutdown. Messages between them are `{ type: 'ses-relay:…' }` over the cluster IPC
// channel.
import cluster, { type Worker } from 'node:cluster';
import { createChildSnapshots, type MetricsJson } from '../metrics/child-snapshots.js';
import { RelayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { missingNodeFlags } from '../shared/node-flags.js';

/** Set in a child's environment: its index (0-based). */
export const SMTP_CHILD_ENV = 'SES_RELAY_SMTP_CHILD';
/** Wait before restarting a dead child: doubled after each child that failed to start or died young. */
const RESTART_DELAY_MS = 1000;
const RESTART_DELAY_MAX_MS = 60_000;
/** A child that ran this long before dying was healthy: its replacement starts after the first delay. */
const HEALTHY_RUN_MS = 60_000;
/** How long a scrape waits for a child's metrics before using its last snapshot. */
const METRICS_TIMEOUT_MS = 2000;
const START_TIMEOUT_MS = 30_000;
/** How a gateway process says its configuration was refused (main.ts). */
const CONFIG_EXIT_CODE = 2;

type Message =
  | { type: 'ses-relay:ready' }
  | { type: 'ses-relay:stop' }
  | { type: 'ses-relay:reload' }
  | { type: 'ses-relay:metrics'; id: number; metrics?: MetricsJson };

function isMessage(value: unknown): value is Message {
  return (
    typeof value === 'object' &&
    value !== null &&
    String((value as { type?: unknown }).type).startsWith('ses-relay:')
  );
}

/** The child's index when this process is an SMTP child, else undefined. */
export function smtpChildIndex(): number | undefined {
  const value = process.env[SMTP_CHILD_ENV];
  return cluster.isWorker && value !== undefined ? Number(value) : undefined;
}

export interface SmtpProcesses {
  /** Children listening now (started and not exited), of SMTP_PROCESSES. */
  running(): number;
  /** Metrics of every live child (fresh, or its last snapshot) and of the dead ones' counters. */
  metrics(): Promise<MetricsJson[]>;
  reload(): void;
  /** Asks every child to stop (each drains like a single process) and waits until they have. */
  stop(timeoutMs: number): Promise<void>;
}

export async function startSmtpProcesses(count: number, logger: Logger): Promise<SmtpProcesses> {
  const children = new Map<number, Worker>();
  const listening = new Set<Worker>();
  /** Per child index: restarts in a row that failed or died young (sets the restart delay). */
  const failures = new Map<number, number>();
  let stopping = false;
  let nextRequest = 0;
  const waiting = new Map<number, (metrics: MetricsJson) => void>();
  const snapshots = createChildSnapshots();
  // Children run with the primary's Node flags plus any recommended one it lacks.
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...missingNodeFlags()] });

  function fork(index: number): Promise<void> {
    const child = cluster.fork({ [SMTP_CHILD_ENV]: String(index), ROLES: 'smtp', SMTP_PROCESSES: '1' });
    children.set(index, child);
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`SMTP process ${index} did not start in ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      markReady = () => {
        clearTimeout(timer);
        resolve();
      };
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        // Exit code 2: the child refused a setting or a file it names (a certificate whose key does
        // not match, …; its own message is on stderr). The primary exits 2 too, as one process would.
        const message = `SMTP process ${index} exited during start-up (${signal ?? code})`;
        reject(
          code === CONFIG_EXIT_CODE
            ? new RelayError(
                'CONFIG_INVALID',
                `${message}: its configuration was refused, see its message above`,
              )
            : new Error(message),
        );
      });
    });
    let readyAt: number | undefined;
    child.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.type === 'ses-relay:ready') {
        readyAt = Date.now();
        listening.add(child);
        markReady();
        // A child started during shutdown (a restart) may have missed the stop order, which came
        // before it listened for orders.
        if (stopping) send(child, { type: 'ses-relay:stop' });
      } else if (message.type === 'ses-relay:metrics' && message.metrics)
        waiting.get(message.id)?.(message.metrics);
    });
    child.once('exit', (code, signal) => {
      if (children.get(index) === child) children.delete(index);
      listening.delete(child);
      snapshots.retire(child.id);
      if (stopping) return;
      logger.error({ smtpProcess: index, pid: child.process.pid, code, signal }, 'smtp.process_exited');
      const healthy = readyAt !== undefined && Date.now() - readyAt >= HEALTHY_RUN_MS;
      const failed = healthy ? 0 : (failures.get(index) ?? 0) + 1;
      failures.set(index, failed);
      restartLater(index, failed);
    });
    return ready;
  }

  /**
   * A child that dies is replaced; the others keep serving meanwhile. One that cannot start (a
   * users file broken since) or keeps dying is tried again less and less often, up to once a minute.
   */
  function restartLater(index: number, failed: number): void {
    const delayMs = Math.min(RESTART_DELAY_MAX_MS, RESTART_DELAY_MS * 2 ** Math.max(0, failed - 1));
    setTimeout(() => {
      if (stopping) return;
      fork(index).then(
        () => logger.info({ smtpProcess: index }, 'smtp.process_restarted'),
        (err: Error) =>
          logger.error(
            {
              smtpProcess: index,
              err: err.message,
              nextTryInMs: Math.min(RESTART_DELAY_MAX_MS, delayMs * 2),
            },
            'smtp.process_restart_failed',
          ),
      );
    }, delayMs).unref();
  }

  function send(child: Worker, message: Message): void {
    if (child.isConnected()) child.send(message);
  }

  async function stop(timeoutMs: number): Promise<void> {
    stopping = true;
    const exits = [...children.values()].map(
      (child) =>
        new Promise<void>((resolve) => (child.isDead() ? resolve() : child.once('exit', () => resolve()))),
    );
    for (const child of children.values()) send(child, { type: 'ses-relay:stop' });
    const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), timeoutMs).unref());
    if ((await Promise.race([Promise.all(exits), deadline])) === 'late') {
      logger.warn({ open: children.size }, 'smtp.processes_stop_overrun');
      for (const child of children.values()) child.process.kill('SIGKILL');
      await Promise.all(exits);
    }
  }

  try {
    await Promise.all(Array.from({ length: count }, (_, index) => fork(index)));
  } catch (err) {
    await stop(5000);
    throw err;
  }
  logger.info(
    { count, pids: [...children.values()].map((child) => child.process.pid) },
    'smtp.processes_started',
  );

  return {
    stop,
    running: () => listening.size,
    reload() {
      for (const child of children.values()) send(child, { type: 'ses-relay:reload' });
    },
    async metrics() {
      // Each child's answer is recorded as it comes; one that does not answer in time keeps its last.
      const replies = [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            const id = nextRequest++;
            const timer = setTimeout(() => {
              waiting.delete(id);
              resolve();
            }, METRICS_TIMEOUT_MS);
            waiting.set(id, (metrics) => {
              clearTimeout(timer);
              waiting.delete(id);
              snapshots.record(child.id, metrics);
              resolve();
            });
            send(child, { type: 'ses-relay:metrics', id });
          }),
      );
      await Promise.all(replies);
      // Read once all have answered: a child that answered and then died is in the retired total
      // by now, not among the live ones as well.
      return snapshots.current();
    },
  };
}

export interface ChildHooks {
  stop(): void;
  reload(): void;
  metrics(): Promise<MetricsJson>;
}

/** In a child: answers the primary's messages, and stops when the primary goes away. */
export function serveSmtpChild(hooks: ChildHooks): { ready(): void } {
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === 'ses-relay:stop') hooks.stop();
    else if (message.type === 'ses-relay:reload') hooks.reload();
    else if (message.type === 'ses-relay:metrics') {
      const id = message.id;
      hooks.metrics().then(
        (metrics) => process.send?.({ type: 'ses-relay:metrics', id, metrics } satisfies Message),
        () => undefined,
      );
    }
  });
  // The primary is gone (killed): nothing will hand this child connections or stop it.
  process.on('disconnect', () => hooks.stop());
  return {
    ready: () => process.send?.({ type: 'ses-relay:ready' } satisfies Message),
  };
}
