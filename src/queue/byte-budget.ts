// Bounds the message bytes a worker holds at once. Sending a raw message through the SDK keeps
// several copies of it alive (the bytes, their base64 form, the JSON body), so without a bound a
// worker running 64 large messages at once could need gigabytes. A message larger than the whole
// budget still goes out, alone.

export interface ByteBudget {
  acquire(bytes: number): Promise<() => void>;
  readonly inUse: number;
}

export function createByteBudget(limitBytes: number): ByteBudget {
  let inUse = 0;
  const waiting: { bytes: number; grant: () => void }[] = [];

  function pump(): void {
    while (waiting.length > 0) {
      const next = waiting[0]!;
      if (inUse > 0 && inUse + next.bytes > limitBytes) return;
      waiting.shift();
      inUse += next.bytes;
      next.grant();
    }
  }

  return {
    get inUse() {
      return inUse;
    },
    acquire(bytes) {
      return new Promise((resolve) => {
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          inUse -= bytes;
          pump();
        };
        waiting.push({ bytes, grant: () => resolve(release) });
        pump();
      });
    },
  };
}
