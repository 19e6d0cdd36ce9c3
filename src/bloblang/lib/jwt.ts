/**
 * JWT parsing (signature verified, claims not validated) and signing for HS/RS/ES 256/384/512,
 * synchronously with node:crypto.
 */
import { createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { bytesToString, getString } from '../core.js';
import { goJSONParse, goJSONStringify } from '../json.js';
import { argStr, registerMethod } from '../registry.js';
import { errPlain, errType, isObject } from '../value.js';

type Family = 'hs' | 'rs' | 'es';
const BITS = ['256', '384', '512'] as const;

function b64url(b: Uint8Array | string): string {
  return Buffer.from(b).toString('base64url');
}

function fromB64url(s: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw errPlain('token is malformed: could not base64 decode');
  return Buffer.from(s, 'base64url');
}

function esSize(bits: string): number {
  return bits === '256' ? 32 : bits === '384' ? 48 : 66;
}

function hashName(bits: string): string {
  return `sha${bits}`;
}

for (const family of ['hs', 'rs', 'es'] as Family[]) {
  for (const bits of BITS) {
    const alg = `${family.toUpperCase()}${bits}`;
    registerMethod({
      name: `parse_jwt_${family}${bits}`,
      category: 'jwt',
      params: [{ name: 'signing_secret', type: 'string' }],
      make: (a) => {
        const secret = argStr(a, 'signing_secret');
        let key: KeyObject | null = null;
        if (family !== 'hs') {
          try {
            key = createPublicKey(secret);
          } catch (e) {
            throw errPlain(`failed to parse ${family.toUpperCase()} public key: ${(e as Error).message}`);
          }
        }
        return (v) => {
          const token = getString(v);
          const parts = token.split('.');
          if (parts.length !== 3) throw errPlain('token is malformed: token contains an invalid number of segments');
          const [h, p, s] = parts as [string, string, string];
          let header: unknown;
          try {
            header = goJSONParse(bytesToString(fromB64url(h)), 'float');
          } catch {
            throw errPlain('token is malformed: could not JSON decode header');
          }
          if (!isObject(header) || header['alg'] !== alg) {
            throw errPlain(`token is unverifiable: error while executing keyfunc: unexpected signing method: ${isObject(header) ? String(header['alg']) : ''}`);
          }
          const signingInput = `${h}.${p}`;
          const sig = fromB64url(s);
          let ok: boolean;
          if (family === 'hs') {
            const expected = createHmac(hashName(bits), secret).update(signingInput).digest();
            ok = expected.length === sig.length && timingSafeEqual(expected, sig);
          } else if (family === 'rs') {
            ok = cryptoVerify(hashName(bits), Buffer.from(signingInput), key as KeyObject, sig);
          } else {
            ok =
              sig.length === 2 * esSize(bits) &&
              cryptoVerify(hashName(bits), Buffer.from(signingInput), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }, sig);
          }
          if (!ok) throw errPlain('token signature is invalid: signature is invalid');
          let claims: unknown;
          try {
            claims = goJSONParse(bytesToString(fromB64url(p)), 'float');
          } catch {
            throw errPlain('token is malformed: could not JSON decode claim');
          }
          return claims;
        };
      },
    });

    registerMethod({
      name: `sign_jwt_${family}${bits}`,
      category: 'jwt',
      params: [{ name: 'signing_secret', type: 'string' }],
      make: (a) => {
        const secret = argStr(a, 'signing_secret');
        let key: KeyObject | null = null;
        if (family !== 'hs') {
          try {
            key = createPrivateKey(secret);
          } catch (e) {
            throw errPlain(`failed to parse ${family.toUpperCase()} private key: ${(e as Error).message}`);
          }
        }
        return (v) => {
          if (!isObject(v)) throw errType(v, 'object');
          const header = b64url(`{"alg":"${alg}","typ":"JWT"}`);
          const payload = b64url(goJSONStringify(v, { escapeHTML: true }));
          const input = `${header}.${payload}`;
          let sig: Buffer;
          if (family === 'hs') sig = createHmac(hashName(bits), secret).update(input).digest();
          else if (family === 'rs') sig = cryptoSign(hashName(bits), Buffer.from(input), key as KeyObject);
          else sig = cryptoSign(hashName(bits), Buffer.from(input), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
          return `${input}.${b64url(sig)}`;
        };
      },
    });
  }
}
