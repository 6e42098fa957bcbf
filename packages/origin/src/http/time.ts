// The clock players synchronise to (DASH UTCTiming http-xsdate / http-iso, ffmpeg utc_timing_url).

/**
 * The current UTC time as an ISO 8601 / xs:dateTime string with milliseconds,
 * e.g. `2024-01-01T00:00:00.000Z`. dash.js `http-xsdate` and `http-iso` both parse it.
 */
export function utcNow(now: number = Date.now()): string {
  return new Date(now).toISOString();
}

/** An IMF-fixdate (RFC 9110 5.6.7) for `Last-Modified`, e.g. `Mon, 01 Jan 2024 00:00:00 GMT`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Milliseconds since the epoch from an HTTP-date; NaN when it does not parse. */
export function parseHttpDate(value: string): number {
  return Date.parse(value);
}
