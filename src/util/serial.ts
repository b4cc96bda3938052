/** A value now, or later. */
export type MaybePromise<T> = T | Promise<T>

export function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function'
}

/** Applies `f` to `v` now if it is a value, after it resolves if it is a promise. */
export function andThen<T, U>(v: MaybePromise<T>, f: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(v) ? v.then(f) : f(v)
}

/**
 * Runs jobs one at a time in call order. A job that is called while nothing is pending runs at
 * once, synchronously; if it returns a value (not a promise) the queue stays idle, so code whose
 * jobs are usually synchronous (decoding a small frame) pays no promise round trip and keeps its
 * event ordering. Only when a job returns a promise do later jobs wait for it to settle (either
 * way: a failed job does not stop the ones after it).
 */
export class Serial {
  #tail: Promise<unknown> | undefined
  #pending = 0

  /** Jobs started or waiting whose promise has not settled. */
  get pending(): number {
    return this.#pending
  }

  /**
   * Like `run` without a promise for the caller, for jobs that handle their own expected errors.
   * Anything a job still throws is not swallowed: at once (synchronous job) it propagates to the
   * caller; later (a job that waited) it is rethrown from a microtask, as an uncaught error, the
   * same as a throwing event listener. The jobs after it still run.
   */
  push(job: () => MaybePromise<unknown>): void {
    if (this.#tail !== undefined) {
      this.#track(this.#tail.then(job, job)).catch(rethrow)
      return
    }
    const result = job()
    if (isPromise(result)) this.#track(result).catch(rethrow)
  }

  run<T>(job: () => MaybePromise<T>): Promise<T> {
    if (this.#tail === undefined) {
      let result: MaybePromise<T>
      try {
        result = job()
      } catch (err: unknown) {
        return Promise.reject(err)
      }
      return isPromise(result) ? this.#track(result) : Promise.resolve(result)
    }
    return this.#track(this.#tail.then(job, job))
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending++
    const settled: Promise<unknown> = p.then(
      () => this.#done(settled),
      () => this.#done(settled),
    )
    this.#tail = settled
    return p
  }

  #done(settled: Promise<unknown>): void {
    this.#pending--
    if (this.#tail === settled) this.#tail = undefined
  }
}

function rethrow(err: unknown): void {
  queueMicrotask(() => {
    throw err
  })
}
