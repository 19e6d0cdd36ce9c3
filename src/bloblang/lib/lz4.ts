/**
 * LZ4 frame format and Snappy block format, written for `compress`/`decompress`.
 *
 * Decompression follows the format specifications fully. Compression produces valid streams that
 * any decoder reads, but uses a simple greedy matcher, so compressed bytes (and lengths) can
 * differ from Go's libraries for compressible input. Incompressible input is stored the same way.
 */

// ---------------------------------------------------------------------------------------------
// xxHash32 (needed by the LZ4 frame header and content checksums)

const P32_1 = 2654435761;
const P32_2 = 2246822519;
const P32_3 = 3266489917;
const P32_4 = 668265263;
const P32_5 = 374761393;

function rotl32(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function read32(b: Uint8Array, i: number): number {
  return ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24)) >>> 0;
}

function round32(acc: number, input: number): number {
  acc = (acc + Math.imul(input, P32_2)) >>> 0;
  acc = rotl32(acc, 13);
  return Math.imul(acc, P32_1) >>> 0;
}

export function xxhash32(b: Uint8Array, seed = 0): number {
  const len = b.length;
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P32_1 + P32_2) >>> 0;
    let v2 = (seed + P32_2) >>> 0;
    let v3 = seed >>> 0;
    let v4 = (seed - P32_1) >>> 0;
    const limit = len - 16;
    while (i <= limit) {
      v1 = round32(v1, read32(b, i));
      v2 = round32(v2, read32(b, i + 4));
      v3 = round32(v3, read32(b, i + 8));
      v4 = round32(v4, read32(b, i + 12));
      i += 16;
    }
    h = (rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18)) >>> 0;
  } else {
    h = (seed + P32_5) >>> 0;
  }
  h = (h + len) >>> 0;
  while (i + 4 <= len) {
    h = (h + Math.imul(read32(b, i), P32_3)) >>> 0;
    h = Math.imul(rotl32(h, 17), P32_4) >>> 0;
    i += 4;
  }
  while (i < len) {
    h = (h + Math.imul(b[i] as number, P32_5)) >>> 0;
    h = Math.imul(rotl32(h, 11), P32_1) >>> 0;
    i++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P32_2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, P32_3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Growable output buffer

class Out {
  buf: Uint8Array;
  n = 0;
  constructor(cap = 256) {
    this.buf = new Uint8Array(Math.max(16, cap));
  }
  ensure(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.n + extra) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.n));
    this.buf = nb;
  }
  byte(v: number): void {
    this.ensure(1);
    this.buf[this.n++] = v;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf[this.n++] = v & 0xff;
    this.buf[this.n++] = (v >>> 8) & 0xff;
    this.buf[this.n++] = (v >>> 16) & 0xff;
    this.buf[this.n++] = (v >>> 24) & 0xff;
  }
  /** Copies `len` bytes starting `dist` back (overlapping copies repeat, as LZ77 requires). */
  copyBack(dist: number, len: number): void {
    this.ensure(len);
    let src = this.n - dist;
    for (let k = 0; k < len; k++) this.buf[this.n++] = this.buf[src++] as number;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

// ---------------------------------------------------------------------------------------------
// LZ4 block format

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;

/** Compresses one block; returns null when the result would not be smaller than the input. */
function lz4CompressBlock(src: Uint8Array): Uint8Array | null {
  const n = src.length;
  if (n < MF_LIMIT + 1) return null;
  const out = new Out(n);
  const table = new Int32Array(1 << 16).fill(-1);
  const hash = (i: number): number => Math.imul(read32(src, i), 2654435761) >>> 16;
  let anchor = 0;
  let i = 0;
  const matchLimit = n - MF_LIMIT;
  while (i < matchLimit) {
    const h = hash(i);
    const ref = table[h] as number;
    table[h] = i;
    if (ref < 0 || i - ref > 65535 || read32(src, ref) !== read32(src, i)) {
      i++;
      continue;
    }
    let mlen = MIN_MATCH;
    const maxLen = n - LAST_LITERALS - i;
    while (mlen < maxLen && src[ref + mlen] === src[i + mlen]) mlen++;
    writeSequence(out, src, anchor, i - anchor, i - ref, mlen);
    i += mlen;
    anchor = i;
    if (out.n >= n) return null;
  }
  writeSequence(out, src, anchor, n - anchor, 0, 0);
  return out.n >= n ? null : out.result();
}

function writeSequence(out: Out, src: Uint8Array, litStart: number, litLen: number, offset: number, matchLen: number): void {
  const ml = matchLen === 0 ? 0 : matchLen - MIN_MATCH;
  out.byte(((litLen >= 15 ? 15 : litLen) << 4) | (matchLen === 0 ? 0 : ml >= 15 ? 15 : ml));
  if (litLen >= 15) writeLen(out, litLen - 15);
  out.bytes(src.subarray(litStart, litStart + litLen));
  if (matchLen === 0) return;
  out.byte(offset & 0xff);
  out.byte(offset >>> 8);
  if (ml >= 15) writeLen(out, ml - 15);
}

function writeLen(out: Out, v: number): void {
  while (v >= 255) {
    out.byte(255);
    v -= 255;
  }
  out.byte(v);
}

function lz4DecodeBlock(src: Uint8Array, out: Out): void {
  let i = 0;
  const n = src.length;
  while (i < n) {
    const token = src[i++] as number;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (i >= n) throw new Error('lz4: invalid source or destination buffer too short');
        b = src[i++] as number;
        lit += b;
      } while (b === 255);
    }
    if (i + lit > n) throw new Error('lz4: invalid source or destination buffer too short');
    out.bytes(src.subarray(i, i + lit));
    i += lit;
    if (i >= n) break;
    if (i + 2 > n) throw new Error('lz4: invalid source or destination buffer too short');
    const offset = (src[i] as number) | ((src[i + 1] as number) << 8);
    i += 2;
    if (offset === 0 || offset > out.n) throw new Error('lz4: invalid source or destination buffer too short');
    let ml = token & 15;
    if (ml === 15) {
      let b: number;
      do {
        if (i >= n) throw new Error('lz4: invalid source or destination buffer too short');
        b = src[i++] as number;
        ml += b;
      } while (b === 255);
    }
    out.copyBack(offset, ml + MIN_MATCH);
  }
}

// ---------------------------------------------------------------------------------------------
// LZ4 frame format

const LZ4_MAGIC = 0x184d2204;
const BLOCK_MAX = 4 << 20;

export function lz4Compress(src: Uint8Array): Uint8Array {
  const out = new Out(src.length + 32);
  out.u32(LZ4_MAGIC);
  const flg = 0x64; // version 01, independent blocks, content checksum
  const bd = 0x70; // 4 MB blocks
  out.byte(flg);
  out.byte(bd);
  out.byte((xxhash32(new Uint8Array([flg, bd])) >>> 8) & 0xff);
  for (let off = 0; off < src.length; off += BLOCK_MAX) {
    const block = src.subarray(off, Math.min(src.length, off + BLOCK_MAX));
    const c = lz4CompressBlock(block);
    if (c === null) {
      out.u32((block.length | 0x80000000) >>> 0);
      out.bytes(block);
    } else {
      out.u32(c.length);
      out.bytes(c);
    }
  }
  out.u32(0);
  out.u32(xxhash32(src));
  return out.result();
}

export function lz4Decompress(src: Uint8Array): Uint8Array {
  const out = new Out(src.length * 3);
  let i = 0;
  const u32 = (): number => {
    if (i + 4 > src.length) throw new Error('lz4: unexpected EOF');
    const v = read32(src, i);
    i += 4;
    return v;
  };
  while (i < src.length) {
    const magic = u32();
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      i += u32(); // skippable frame
      continue;
    }
    if (magic !== LZ4_MAGIC) throw new Error('lz4: bad magic number');
    if (i + 2 > src.length) throw new Error('lz4: unexpected EOF');
    const flg = src[i] as number;
    i += 2; // FLG, BD
    if (flg >>> 6 !== 1) throw new Error('lz4: invalid frame version');
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    if (contentSize) i += 8;
    if (dictId) i += 4;
    i += 1; // header checksum
    for (;;) {
      const size = u32();
      if (size === 0) break;
      const raw = (size & 0x80000000) !== 0;
      const len = size & 0x7fffffff;
      if (i + len > src.length) throw new Error('lz4: unexpected EOF');
      const block = src.subarray(i, i + len);
      i += len;
      if (raw) out.bytes(block);
      else lz4DecodeBlock(block, out);
      if (blockChecksum) i += 4;
    }
    if (contentChecksum) i += 4;
  }
  return out.result();
}

// ---------------------------------------------------------------------------------------------
// Snappy block format

export function snappyCompress(src: Uint8Array): Uint8Array {
  const out = new Out(src.length + 16);
  let n = src.length;
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.byte(b);
  } while (n > 0);
  for (let off = 0; off < src.length; off += 65536) {
    const chunk = src.subarray(off, Math.min(src.length, off + 65536));
    const l = chunk.length - 1;
    if (l < 60) out.byte(l << 2);
    else if (l < 256) {
      out.byte(60 << 2);
      out.byte(l);
    } else {
      out.byte(61 << 2);
      out.byte(l & 0xff);
      out.byte(l >>> 8);
    }
    out.bytes(chunk);
  }
  return out.result();
}

export function snappyDecompress(src: Uint8Array): Uint8Array {
  let i = 0;
  let want = 0;
  let shift = 0;
  for (;;) {
    if (i >= src.length) throw new Error('snappy: corrupt input');
    const b = src[i++] as number;
    want += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
    if (shift > 35) throw new Error('snappy: corrupt input');
  }
  const out = new Out(want);
  const corrupt = (): never => {
    throw new Error('snappy: corrupt input');
  };
  while (i < src.length) {
    const tag = src[i++] as number;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const nb = len - 59;
        if (i + nb > src.length) corrupt();
        len = 0;
        for (let k = 0; k < nb; k++) len += (src[i + k] as number) * 2 ** (8 * k);
        i += nb;
      }
      len += 1;
      if (i + len > src.length) corrupt();
      out.bytes(src.subarray(i, i + len));
      i += len;
      continue;
    }
    let len: number;
    let off: number;
    if (kind === 1) {
      if (i >= src.length) corrupt();
      len = 4 + ((tag >>> 2) & 7);
      off = ((tag >>> 5) << 8) | (src[i++] as number);
    } else if (kind === 2) {
      if (i + 2 > src.length) corrupt();
      len = 1 + (tag >>> 2);
      off = (src[i] as number) | ((src[i + 1] as number) << 8);
      i += 2;
    } else {
      if (i + 4 > src.length) corrupt();
      len = 1 + (tag >>> 2);
      off = read32(src, i);
      i += 4;
    }
    if (off === 0 || off > out.n) corrupt();
    out.copyBack(off, len);
  }
  if (out.n !== want) corrupt();
  return out.result();
}
