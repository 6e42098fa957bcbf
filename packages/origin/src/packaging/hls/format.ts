// Number and attribute formatting shared by the playlist writers.

/** Seconds with up to 5 decimals, no trailing zeros past the first decimal ("2.0", "0.21333"). */
export function seconds(value: number): string {
  const text = value.toFixed(5).replace(/0+$/, '');
  return text.endsWith('.') ? text + '0' : text;
}

/** A quoted-string attribute value (RFC 8216bis 4.2: no double quote, CR or LF inside). */
export function quoted(value: string): string {
  return `"${value.replace(/["\r\n]/g, '')}"`;
}

/** ISO 8601 with milliseconds and `Z`, as EXT-X-PROGRAM-DATE-TIME wants. */
export function dateTime(epochMs: number): string {
  return new Date(Math.round(epochMs)).toISOString();
}
