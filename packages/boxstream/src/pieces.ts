import { concat } from './bytes.js';

const EMPTY = new Uint8Array(0);

/**
 * The pushed pieces the parser still needs, in stream order, each remembered with its absolute
 * start offset. Pieces are kept as given (views, never copied) and dropped from the front once
 * every event that covers them has been emitted. The arrays are reused, never shrunk, so that
 * pushing allocates nothing once they reached the stream's working size.
 */
export class PieceQueue {
  private readonly pieces: Uint8Array[] = [];
  private readonly starts: number[] = [];
  private count = 0; // slots in use: [0, count)
  private head = 0; // index of the first live piece
  private cursor = 0; // index of the piece found by the last `locate`
  /** Absolute offset one past the last byte pushed. */
  end = 0;

  push(piece: Uint8Array): void {
    if (this.count < this.pieces.length) {
      this.pieces[this.count] = piece;
      this.starts[this.count] = this.end;
    } else {
      this.pieces.push(piece);
      this.starts.push(this.end);
    }
    this.count++;
    this.end += piece.byteLength;
  }

  /** Index of the live piece holding absolute offset `at` (which must be held). */
  private locate(at: number): number {
    let i = this.cursor >= this.head && this.starts[this.cursor] <= at ? this.cursor : this.head;
    while (this.starts[i] + this.pieces[i].byteLength <= at) i++;
    this.cursor = i;
    return i;
  }

  /** Views covering absolute `[from, to)`: one per piece touched, no copy. */
  views(from: number, to: number): Uint8Array[] {
    if (to <= from) return [];
    const first = this.locate(from);
    let last = first;
    while (this.starts[last] + this.pieces[last].byteLength < to) last++;
    // Sized up front: an array grown by push() would allocate room for 17.
    const out: Uint8Array[] = new Array(last - first + 1);
    for (let i = first; i <= last; i++) {
      const piece = this.pieces[i];
      const start = this.starts[i];
      const a = Math.max(0, from - start);
      const b = Math.min(piece.byteLength, to - start);
      out[i - first] = a === 0 && b === piece.byteLength ? piece : piece.subarray(a, b);
    }
    return out;
  }

  /** Bytes of absolute `[from, to)` as one array: a view when they lie in one piece, else a copy. */
  bytes(from: number, to: number): Uint8Array {
    const i = this.locate(from);
    const piece = this.pieces[i];
    const start = this.starts[i];
    if (to - start <= piece.byteLength) return piece.subarray(from - start, to - start);
    return concat(this.views(from, to));
  }

  /**
   * Copies up to `len` bytes from absolute offset `from` into `into` (for box headers, which may
   * straddle many tiny pieces); returns how many were available.
   */
  copy(into: Uint8Array, from: number, len: number): number {
    const n = Math.min(len, this.end - from);
    if (n <= 0) return 0;
    let i = this.locate(from);
    let at = from;
    let k = 0;
    while (k < n) {
      const piece = this.pieces[i];
      const a = at - this.starts[i];
      const take = Math.min(piece.byteLength - a, n - k);
      into.set(take === piece.byteLength && a === 0 ? piece : piece.subarray(a, a + take), k);
      k += take;
      at += take;
      i++;
    }
    return n;
  }

  /**
   * When the piece holding absolute `at` also holds the `len` bytes after it, returns that piece
   * (and leaves the index of `at` in it in `directIndex`), so that a header can be read in place,
   * without a copy or an allocation, in the common case. Otherwise returns null.
   */
  direct(at: number, len: number): Uint8Array | null {
    if (at >= this.end) return null;
    const i = this.locate(at);
    const index = at - this.starts[i];
    const piece = this.pieces[i];
    if (index + len > piece.byteLength) return null;
    this.directIndex = index;
    return piece;
  }

  /** Set by `direct()`: the index in the returned piece of the offset asked for. */
  directIndex = 0;

  /** Forgets every piece that ends at or before absolute offset `upTo`. */
  release(upTo: number): void {
    while (this.head < this.count && this.starts[this.head] + this.pieces[this.head].byteLength <= upTo) {
      // Let go of the piece now (its memory may be large), not at the next compaction.
      this.pieces[this.head] = EMPTY;
      this.head++;
    }
    // Compact in place now and then (no new arrays), so they do not grow for the life of the stream.
    if (this.head > 64 && this.head * 2 > this.count) {
      const live = this.count - this.head;
      for (let i = 0; i < live; i++) {
        this.pieces[i] = this.pieces[this.head + i];
        this.starts[i] = this.starts[this.head + i];
      }
      for (let i = live; i < this.count; i++) this.pieces[i] = EMPTY;
      this.count = live;
      this.cursor = Math.max(0, this.cursor - this.head);
      this.head = 0;
    }
    if (this.cursor < this.head) this.cursor = this.head;
  }
}
