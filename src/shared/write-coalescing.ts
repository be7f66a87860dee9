// Group commit for a busy connection: everything written to a socket during one turn of the event
// loop leaves in one system call (writev) at the end of that turn, instead of one call per write.
//
// On the SMTP intake path each accepted message writes four commands to Redis (suppression check,
// raw bytes, job, trace) and four replies to its client. When many sessions finish at the same
// time, their commands share a turn, so Redis receives them as one batch and the gateway makes one
// write instead of dozens. The delay this adds is the rest of the current turn: setImmediate runs
// before the event loop next waits for input.
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';

const corked = new WeakSet<Socket>();

/** Corks the socket until the end of this event-loop turn (once per turn, however often called). */
export function coalesceUntilEndOfTurn(socket: Socket): void {
  if (corked.has(socket) || socket.destroyed || !socket.writable) return;
  corked.add(socket);
  socket.cork();
  setImmediate(() => {
    corked.delete(socket);
    socket.uncork();
  });
}

/** Makes every write to `socket` go through coalesceUntilEndOfTurn. */
export function coalesceSocketWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = (...args: unknown[]) => {
    coalesceUntilEndOfTurn(socket);
    return write(...args);
  };
}

/**
 * Makes every command sent on `redis` go through coalesceUntilEndOfTurn. A single server or a
 * Sentinel-managed one only: a Cluster spreads commands over several sockets and is left as it is.
 */
export function coalesceRedisWrites(redis: Redis): void {
  if ((redis as { isCluster?: boolean }).isCluster) return;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    const socket = (redis as unknown as { stream?: Socket }).stream;
    if (socket && redis.status === 'ready') coalesceUntilEndOfTurn(socket);
    return send(...args);
  };
}
