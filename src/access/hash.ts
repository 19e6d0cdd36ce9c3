/**
 * Secrets at rest and in comparisons.
 *
 * Keys are stored only as `keyHash(key)` = SHA-256 of the key, in lower-case hex: the same value
 * Tyk computes with `hash_keys: true` and `hash_key_function: sha256`, so hashes exported from
 * such a Tyk deployment stay valid. A fast hash is enough for keys because they are random
 * (128 bits from the CSPRNG when Sluice generates them), so there is nothing to brute-force; it
 * also keeps the lookup on every request cheap. Passwords (basic auth) are chosen by people, so
 * they get a slow, salted hash instead: scrypt (N=16384, r=8, p=1).
 *
 * Every comparison of a secret is constant-time.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key: the org id (Tyk's convention, often empty) followed by 32 hex characters. */
export function generateKey(orgId = ''): string {
  return orgId + randomBytes(16).toString('hex');
}

export function isKeyHash(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

/** Constant-time equality of two strings, whatever their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export const PASSWORD_HASH_TYPE = 'scrypt';

/** `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export function isPasswordHash(s: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/.test(s);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // Refuse parameters that would make a stored value a denial of service.
  if (!(N >= 2 && N <= 1 << 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16) return false;
  const got = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 64 * 1024 * 1024 });
  return timingSafeEqual(got, expected);
}
