// Number formats codec strings use.

/** Two lower-case hex digits. */
export function hex2(n: number): string {
  return (n < 16 ? '0' : '') + n.toString(16);
}

/** At least two decimal digits. */
export function dec2(n: number): string {
  return (n < 10 ? '0' : '') + n;
}
