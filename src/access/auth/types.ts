/**
 * Authentication as middleware factories: each method (auth token, basic, JWT, external OAuth,
 * custom plugin, keyless) is a factory returning an `Authenticator`, a function from the parts
 * of a request that carry credentials to an identity or a failure with Tyk's status and message.
 *
 * The key/policy store is reached only through `KeyLookup`, so this folder depends on nothing
 * but the access types.
 */
import type { AuthFailure, Identity, Session } from '../types.js';

/** The parts of an HTTP request (or WebSocket upgrade) that authentication reads. */
export interface AuthRequest {
  readonly method: string;
  /** Path relative to the API's listen path. */
  readonly path: string;
  /** Header names in any case (Node gives them lower-cased). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly query: URLSearchParams;
  /** Cookies by name; when absent they are parsed from the `cookie` header. */
  readonly cookies?: Readonly<Record<string, string>>;
  readonly remoteAddr?: string;
  /**
   * The whole request path as received (no query), for HMAC's `(request-target)`, which Tyk
   * signs with the listen path included; `path` is used when absent.
   */
  readonly requestPath?: string;
  /** True when the request came over TLS (for Tyk's "TLS not enabled" answer of client-certificate APIs). */
  readonly tls?: boolean;
  /** The verified client certificate of the TLS connection (mutual TLS), if any. */
  readonly clientCertificate?: { readonly subject: string; readonly fingerprint256: string };
}

export type AuthResult =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly failure: AuthFailure };

export type Authenticator = (req: AuthRequest) => Promise<AuthResult>;

/**
 * What authentication needs from the key/policy store. Implementations hash and compare secrets
 * themselves (keys by hash, passwords with a slow hash) in constant time.
 *
 * Expired or inactive keys are still returned: the authenticator reports them with Tyk's
 * messages ("Key has expired, please renew", "Key is inactive, please renew").
 */
export interface KeyLookup {
  /** The identity of a key given in plain text; undefined when no such key exists. */
  resolveKey(key: string): Promise<Identity | undefined>;
  /**
   * The identity of a basic-auth user after checking the password; undefined when the user is
   * unknown or the password wrong (the caller cannot tell which).
   */
  resolveBasic(username: string, password: string): Promise<Identity | undefined>;
  /**
   * Optional: the current identity of a basic-auth user without checking a password. When
   * present, a cached password check is combined with the user's current session, so edits and
   * revocations apply at once; the cache is also dropped when the stored password hash changes.
   */
  resolveBasicUser?(username: string): Promise<Identity | undefined>;
  /**
   * The session made by applying these policies (Tyk's `apply_policies`) to an empty key, with
   * `apply_policies` set; undefined when a policy is unknown or inactive.
   */
  resolvePolicies(ids: readonly string[]): Promise<Session | undefined>;
}

/**
 * Where a credential is read from. Names are as in Tyk's auth sources: a header (matched in any
 * case), a query parameter and a cookie (both case-sensitive). When several are set and present,
 * the cookie wins over the query parameter, which wins over the header (Tyk's order).
 */
export interface CredentialSources {
  readonly header?: string;
  readonly query?: string;
  readonly cookie?: string;
}

/** The minimal logger authentication writes to; credentials are never passed to it. */
export interface AuthLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Clock and HTTP client, injectable for tests. */
export interface AuthRuntime {
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  readonly fetch?: typeof globalThis.fetch;
  readonly logger?: AuthLogger;
}
