// CORS for browser players: every response carries Allow-Origin and the exposed headers (errors
// too, or the player cannot even read the status); OPTIONS preflights are answered.

/**
 * Which origins may read responses: `'*'` (default) for any, one origin, a list of origins
 * (the request's Origin is echoed when listed), or `false` to send no CORS headers at all.
 */
export type CorsOrigin = string | readonly string[] | false;

/** Methods the origin answers; also the preflight's Allow-Methods. */
export const ALLOWED_METHODS = 'GET, HEAD, PUT, POST, DELETE, OPTIONS';

/** Request headers players and encoders send cross-origin, allowed in preflight. */
const ALLOWED_HEADERS = 'Range, If-None-Match, If-Modified-Since, If-Range, Content-Type, Cache-Control';

/** Response headers a script may read besides the safelisted ones (dash.js `http-head` reads Date). */
export const EXPOSED_HEADERS = 'Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, Date, Age';

/** How long a browser may cache a preflight answer, seconds. */
const PREFLIGHT_MAX_AGE = '86400';

/** A header name list as browsers send it in Access-Control-Request-Headers: tokens and commas. */
const HEADER_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

type Headers = Readonly<Record<string, string>>;
const NONE: Headers = Object.freeze({});

/** Precomputed CORS answers for one configuration. */
export class CorsPolicy {
  private readonly fixed: Headers | undefined;
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly enabled: boolean;

  constructor(origin: CorsOrigin = '*') {
    this.enabled = origin !== false;
    if (origin === false) return;
    if (typeof origin === 'string') {
      const fixed: Record<string, string> = {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Expose-Headers': EXPOSED_HEADERS,
      };
      // A single named origin still varies by nothing; '*' never does.
      this.fixed = Object.freeze(fixed);
    } else {
      this.allowed = new Set(origin);
    }
  }

  /**
   * Headers for every response to a request from `requestOrigin`. The same frozen object is
   * returned for a fixed origin, so this allocates nothing per request.
   */
  headers(requestOrigin: string | undefined): Headers {
    if (!this.enabled) return NONE;
    if (this.fixed) return this.fixed;
    const allowed = requestOrigin !== undefined && (this.allowed as ReadonlySet<string>).has(requestOrigin);
    return allowed
      ? { 'Access-Control-Allow-Origin': requestOrigin, 'Access-Control-Expose-Headers': EXPOSED_HEADERS, Vary: 'Origin' }
      : { Vary: 'Origin' };
  }

  /** Extra headers answering a preflight (`OPTIONS` with Access-Control-Request-Method). */
  preflight(requestHeaders: string | undefined): Headers {
    if (!this.enabled) return NONE;
    // Echo what the browser asks for when it is a well-formed list, so custom headers work.
    const headers = requestHeaders !== undefined && HEADER_LIST.test(requestHeaders.trim()) ? requestHeaders.trim() : ALLOWED_HEADERS;
    return {
      'Access-Control-Allow-Methods': ALLOWED_METHODS,
      'Access-Control-Allow-Headers': headers,
      'Access-Control-Max-Age': PREFLIGHT_MAX_AGE,
    };
  }
}
