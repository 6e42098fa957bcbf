// Store events with isolated listeners. Persistence, metrics, retention and (next) relays and
// playlist generators all listen to the store; a listener that throws must cost that listener
// one event, never the upload that published it or the readers following it.

/** Event name -> listener arguments. */
export type EventMap = { [name: string]: unknown[] };

type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * A small typed emitter. Each listener runs in its own try/catch; an error goes to `onError`
 * and the remaining listeners still run. Listener lists are copied on change, never on emit, so
 * an emit allocates nothing and a listener may add or remove listeners while one runs.
 */
export class Emitter<E extends EventMap> {
  private readonly lists: { [K in keyof E]?: readonly Listener<E[K]>[] } = {};

  /** Where listener errors go (default: ignored). The store wires this to a warning and a counter. */
  onError: (error: unknown, event: keyof E) => void = () => undefined;

  /** Adds a listener for `event`. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    this.lists[event] = [...(this.lists[event] ?? []), listener];
    return this;
  }

  /** Removes one registration of `listener` for `event`; safe when it is not registered. */
  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.lists[event];
    if (list === undefined) return this;
    const i = list.lastIndexOf(listener);
    if (i < 0) return this;
    const next = list.slice();
    next.splice(i, 1);
    this.lists[event] = next.length === 0 ? undefined : next;
    return this;
  }

  /** Calls every listener of `event`, each isolated from the others and from the caller. */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const list = this.lists[event];
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(...args);
      } catch (err) {
        try {
          this.onError(err, event);
        } catch {
          // An error handler that throws has nowhere left to report to.
        }
      }
    }
  }
}
