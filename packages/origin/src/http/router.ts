// The request dispatch: a chain of routes tried in order, then the object handler. Features
// plug in as routes (the player page, operational endpoints, and next generated playlists and
// VOD uploads) instead of patching the dispatch.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginContext } from '../context.js';
import type { RequestTally } from './tally.js';

/** One request, after its path was parsed into an object key. */
export interface Exchange {
  ctx: OriginContext;
  req: IncomingMessage;
  res: ServerResponse;
  /** The normalised path (see `parseRequestPath`). */
  key: string;
  tally: RequestTally;
}

/** Answers the exchange and returns true, or returns false to leave it to the next route. */
export type Route = (x: Exchange) => boolean;

/** Routes for exact paths (one map lookup), then routes that decide for themselves, then a fallback. */
export class Router {
  private readonly exact = new Map<string, Route>();
  private readonly chain: Route[] = [];

  constructor(private readonly fallback: (x: Exchange) => void) {}

  /** `route` for requests to exactly `path` (every method: it answers 405 itself where it must). */
  at(path: string, route: Route): this {
    this.exact.set(path, route);
    return this;
  }

  /** `route` for any request, tried in the order added, after the exact paths. */
  use(route: Route): this {
    this.chain.push(route);
    return this;
  }

  handle(x: Exchange): void {
    const exact = this.exact.get(x.key);
    if (exact !== undefined && exact(x)) return;
    for (const route of this.chain) if (route(x)) return;
    this.fallback(x);
  }
}
