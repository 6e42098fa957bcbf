// Common Encryption (ISO/IEC 23001-7): what a protected sample entry's `sinf` says (frma, schm,
// schi/tenc) and the `pssh` boxes of a moov.
import { findChild, readChildren, type ChildBox } from '../boxes.js';
import { fourcc, hex, u32 } from '../bytes.js';
import { requirePayload, uuid } from '../fields.js';

/** How a track is encrypted: `sinf` of an `encv` / `enca` / `enct` / `encs` sample entry. */
export interface TrackEncryption {
  /** `frma`: the sample entry format before encryption (`avc1`, `mp4a`, ...). */
  originalFormat: string | undefined;
  /** `schm` scheme_type: `cenc`, `cbcs`, `cens`, `cbc1`. */
  scheme: string | undefined;
  /** `schm` scheme_version (0x00010000 = 1.0). */
  schemeVersion: number | undefined;
  /** `tenc` default_isProtected. */
  isProtected: boolean | undefined;
  /** `tenc` default_Per_Sample_IV_Size in bytes: 0 (a constant IV), 8 or 16. */
  perSampleIvSize: number | undefined;
  /** `tenc` default_KID as a lower-case UUID (`8-4-4-4-12`), as in an MPD's `cenc:default_KID`. */
  defaultKid: string | undefined;
  /** `tenc` default_constant_IV in lower-case hex, when the per-sample IV size is 0. */
  constantIv: string | undefined;
  /** `tenc` version 1 pattern (cbcs, cens): encrypted and skipped 16-byte blocks. */
  cryptByteBlock: number | undefined;
  skipByteBlock: number | undefined;
}

/** One `pssh` box: which DRM system, for which keys, with how much system-specific data. */
export interface ProtectionSystem {
  /** SystemID as a lower-case UUID (Widevine `edef8ba9-79d6-4ace-a3c8-27dcd51d21ed`, ...). */
  systemId: string;
  /** Key ids of a version 1 pssh, as UUIDs; empty for version 0. */
  kids: string[];
  /** The system-specific data, a view of the box's bytes (not copied). */
  data: Uint8Array;
}

/** Reads a `sinf` box (children: frma, schm, schi > tenc). */
export function readSinf(b: Uint8Array, sinf: ChildBox, base: number): TrackEncryption {
  const e: TrackEncryption = {
    originalFormat: undefined,
    scheme: undefined,
    schemeVersion: undefined,
    isProtected: undefined,
    perSampleIvSize: undefined,
    defaultKid: undefined,
    constantIv: undefined,
    cryptByteBlock: undefined,
    skipByteBlock: undefined,
  };
  for (const box of readChildren(b, sinf.start, sinf.end, base)) {
    if (box.type === 'frma') {
      requirePayload(box, 4);
      e.originalFormat = fourcc(b, box.start);
    } else if (box.type === 'schm') {
      requirePayload(box, 12);
      e.scheme = fourcc(b, box.start + 4);
      e.schemeVersion = u32(b, box.start + 8);
    } else if (box.type === 'schi') {
      const tenc = findChild(b, box.start, box.end, 'tenc', base);
      if (tenc) readTenc(b, tenc, e);
    }
  }
  return e;
}

function readTenc(b: Uint8Array, tenc: ChildBox, e: TrackEncryption): void {
  // version(8) flags(24) reserved(8) [v0: reserved(8) | v1: crypt(4) skip(4)] isProtected(8)
  // Per_Sample_IV_Size(8) KID(128) [constant_IV_size(8) constant_IV]
  requirePayload(tenc, 24);
  const at = tenc.start;
  if (b[at] >= 1) {
    e.cryptByteBlock = b[at + 5] >> 4;
    e.skipByteBlock = b[at + 5] & 15;
  }
  e.isProtected = b[at + 6] === 1;
  e.perSampleIvSize = b[at + 7];
  e.defaultKid = uuid(b, at + 8);
  if (e.isProtected && e.perSampleIvSize === 0 && tenc.end - at >= 25) {
    const size = Math.min(b[at + 24], tenc.end - at - 25);
    e.constantIv = hex(b, at + 25, size);
  }
}

/** Reads a `pssh` box. */
export function readPssh(b: Uint8Array, pssh: ChildBox): ProtectionSystem {
  requirePayload(pssh, 24);
  let at = pssh.start + 4;
  const systemId = uuid(b, at);
  at += 16;
  const kids: string[] = [];
  if (b[pssh.start] >= 1) {
    const count = u32(b, at);
    at += 4;
    requirePayload(pssh, at - pssh.start + count * 16 + 4);
    for (let i = 0; i < count; i++, at += 16) kids.push(uuid(b, at));
  }
  const size = u32(b, at);
  at += 4;
  requirePayload(pssh, at - pssh.start + size);
  return { systemId, kids, data: b.subarray(at, at + size) };
}
