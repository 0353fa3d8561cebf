/** Time limits for requests to the daemon, so nothing waits for ever. */

/** A request got no answer within its time limit. */
export class RequestTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly seconds: number,
  ) {
    super(`${method} got no answer within ${seconds} s; the daemon may be stuck (see Bosun: Open Daemon Log)`);
    this.name = 'RequestTimeoutError';
  }
}

/** Settle with `work`, or reject with `timeout()` after `ms` and call `cancel`. */
export function withDeadline<T>(work: Promise<T>, ms: number, timeout: () => Error, cancel?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel?.();
      reject(timeout());
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
