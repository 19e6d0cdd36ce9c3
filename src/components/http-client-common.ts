/**
 * What the HTTP client components share: `http_client` input and output, the `http` processor
 * and (for auth and TLS) the `websocket` client components.
 *
 * - The config fields, declared once so every client reads the same (Benthos/Bento names and
 *   defaults).
 * - Status classification: `drop_on` (fail, no retry), `backoff_on` (retry with growing waits),
 *   `successful_on` and 2xx (success), anything else (retry every `retry_period`).
 * - Auth: basic, OAuth 1 (HMAC-SHA1 request signing), OAuth 2 client credentials (token fetched
 *   and cached until shortly before it expires) and JWT (signed once with a private key file).
 * - The transport: node:http(s) with keep-alive agents, custom TLS, an optional HTTP proxy,
 *   redirects, gzip, a timeout per attempt, and retries with rate limiting.
 *
 * Secrets never reach a log line or an error message: URLs are redacted (userinfo and
 * secret-looking query values) and auth failures name only the token URL and the status.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { createHmac, createPrivateKey, randomBytes, sign as cryptoSign, constants as cryptoConstants, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ComponentContext, RateLimit } from '../engine/component.js';
import type { InterpolatedString } from '../engine/bloblang-api.js';
import type { LogLevel, Logger } from '../engine/logger.js';
import { Message, metaToString, type Batch } from '../engine/message.js';
import { field, tlsFields, type FieldSpec } from '../engine/spec.js';
import { Backoff, parseDuration, sleep } from '../engine/backoff.js';

// ---------------------------------------------------------------------------------------------
// Config

export interface TlsConfig {
  enabled: boolean;
  skip_cert_verify: boolean;
  enable_renegotiation: boolean;
  root_cas: string;
  root_cas_file: string;
  client_certs: { cert: string; key: string; cert_file: string; key_file: string; password: string }[];
}

export interface BasicAuthConfig {
  enabled: boolean;
  username: string;
  password: string;
}

export interface OAuth1Config {
  enabled: boolean;
  consumer_key: string;
  consumer_secret: string;
  access_token: string;
  access_token_secret: string;
}

export interface OAuth2Config {
  enabled: boolean;
  client_key: string;
  client_secret: string;
  token_url: string;
  scopes: string[];
  endpoint_params: Record<string, unknown>;
}

export interface JwtConfig {
  enabled: boolean;
  private_key_file: string;
  signing_method: string;
  claims: Record<string, unknown>;
  headers: Record<string, unknown>;
}

export interface MetadataFilterConfig {
  include_prefixes: string[];
  include_patterns: string[];
}

export interface AuthConfig {
  oauth?: OAuth1Config;
  oauth2?: OAuth2Config;
  basic_auth?: BasicAuthConfig;
  jwt?: JwtConfig;
}

export interface TransportConfig {
  dial_context: { timeout: string; keep_alive: string };
  force_http2: boolean;
  max_idle_connections: number;
  idle_connection_timeout: string;
  tls_handshake_timeout: string;
  expect_continue_timeout: string;
}

/** The fields every HTTP client component has (input, output, processor). */
export interface HttpClientConfig extends AuthConfig {
  url: string;
  verb: string;
  headers: Record<string, string>;
  metadata: MetadataFilterConfig;
  dump_request_log_level: string;
  tls: TlsConfig;
  extract_headers: MetadataFilterConfig;
  rate_limit?: string;
  timeout: string;
  retry_period: string;
  max_retry_backoff: string;
  retries: number;
  follow_redirects: boolean;
  backoff_on: number[];
  drop_on: number[];
  successful_on: number[];
  proxy_url?: string;
  transport?: TransportConfig;
}

export const metadataFilterField = (name: string, description: string): FieldSpec =>
  field.object(name, description, [
    field.stringList('include_prefixes', 'Keys with any of these prefixes match.', { default: [], examples: [['foo_', 'bar_'], ['kafka_']] }),
    field.stringList('include_patterns', 'Keys matching any of these regular expressions match.', { default: [], examples: [['.*'], ['_timestamp_unix$']] }),
  ], { advanced: true });

export const oauthField = (): FieldSpec =>
  field.object('oauth', 'OAuth 1 request signing (HMAC-SHA1).', [
    field.bool('enabled', 'Whether requests are signed with OAuth 1.', { default: false }),
    field.string('consumer_key', 'Identifies the client to the service provider.', { default: '' }),
    field.string('consumer_secret', 'Secret that proves ownership of the consumer key.', { default: '', secret: true }),
    field.string('access_token', 'Token giving access to the protected resources on behalf of the user.', { default: '' }),
    field.string('access_token_secret', 'Secret that proves ownership of the access token.', { default: '', secret: true }),
  ], { advanced: true });

export const oauth2Field = (): FieldSpec =>
  field.object('oauth2', 'OAuth 2 with the client credentials flow: a token is fetched from `token_url`, cached until it expires and sent as a bearer token.', [
    field.bool('enabled', 'Whether OAuth 2 is used.', { default: false }),
    field.string('client_key', 'Identifies the client to the token provider.', { default: '' }),
    field.string('client_secret', 'Secret that proves ownership of the client key.', { default: '', secret: true }),
    field.string('token_url', 'URL of the token provider.', { default: '' }),
    field.stringList('scopes', 'Requested scopes.', { default: [] }),
    field.any('endpoint_params', 'Extra parameters sent to the token endpoint; each value is a list of strings.', { default: {}, examples: [{ audience: ['https://api.example.com'] }] }),
  ], { advanced: true });

export const basicAuthField = (): FieldSpec =>
  field.object('basic_auth', 'HTTP basic authentication.', [
    field.bool('enabled', 'Whether basic authentication is used.', { default: false }),
    field.string('username', 'User name.', { default: '' }),
    field.string('password', 'Password.', { default: '', secret: true }),
  ], { advanced: true });

export const jwtField = (): FieldSpec =>
  field.object('jwt', 'JWT authentication: a token with the given claims, signed with a private key, sent as a bearer token.', [
    field.bool('enabled', 'Whether JWT authentication is used.', { default: false }),
    field.string('private_key_file', 'A PEM file (PKCS#1 or PKCS#8) holding the private key.', { default: '' }),
    field.string('signing_method', 'Signing algorithm: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA.', { default: '' }),
    field.any('claims', 'Claims of the token.', { default: {} }),
    field.any('headers', 'Extra JOSE header values of the token.', { default: {} }),
  ], { advanced: true });

const transportField = (): FieldSpec =>
  field.object('transport', 'Connection tuning.', [
    field.object('dial_context', 'How connections are opened.', [
      field.duration('timeout', 'Timeout for opening a connection.', { default: '30s' }),
      field.duration('keep_alive', 'TCP keep-alive period.', { default: '30s' }),
    ]),
    field.bool('force_http2', 'Accepted for compatibility; Sluice speaks HTTP/1.1.', { default: true }),
    field.int('max_idle_connections', 'Idle keep-alive connections kept (0 = no limit).', { default: 100 }),
    field.duration('idle_connection_timeout', 'How long an idle connection is kept.', { default: '90s' }),
    field.duration('tls_handshake_timeout', 'Maximum time for a TLS handshake.', { default: '10s' }),
    field.duration('expect_continue_timeout', 'Accepted for compatibility; not used.', { default: '1s' }),
  ], { advanced: true });

/** The auth groups of the HTTP clients (the websocket clients use all but `oauth2`). */
export const authFields = (withOAuth2 = true): FieldSpec[] =>
  withOAuth2 ? [oauthField(), oauth2Field(), basicAuthField(), jwtField()] : [oauthField(), basicAuthField(), jwtField()];

const LOG_LEVEL_OPTIONS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', ''];

/** The common fields, in Benthos' order. `verb` defaults differ between input (GET) and the rest (POST). */
export function httpClientFields(defaultVerb: 'GET' | 'POST'): FieldSpec[] {
  return [
    field.interp('url', 'The URL to send requests to.', { examples: ['https://example.com/hooks/${! @kafka_topic }'] }),
    field.string('verb', 'The HTTP method.', { default: defaultVerb, examples: ['POST', 'GET', 'DELETE'] }),
    field.stringMap('headers', 'Headers added to each request.', { default: {}, interpolated: true, examples: [{ 'Content-Type': 'application/octet-stream' }] }),
    metadataFilterField('metadata', 'Which metadata keys are sent as request headers (none by default).'),
    field.string('dump_request_log_level', 'Logs each request and response (without auth headers) at this level. Empty = off.', { default: '', options: LOG_LEVEL_OPTIONS, advanced: true }),
    ...authFields(true),
    tlsFields(),
    metadataFilterField('extract_headers', 'Which response headers become metadata of the resulting messages. Header names are lowercased before matching.'),
    field.string('rate_limit', 'Label of a rate_limit resource that throttles requests.', { optional: true }),
    field.duration('timeout', 'Timeout of each request attempt.', { default: '5s' }),
    field.duration('retry_period', 'Base wait between failed attempts.', { default: '1s', advanced: true }),
    field.duration('max_retry_backoff', 'Longest wait between attempts (for `backoff_on` statuses).', { default: '300s', advanced: true }),
    field.int('retries', 'How many times a failed request is retried.', { default: 3, advanced: true }),
    field.bool('follow_redirects', 'Whether 3xx responses are followed transparently.', { default: true, advanced: true }),
    field.intList('backoff_on', 'Statuses that are retried with increasing waits.', { default: [429], advanced: true }),
    field.intList('drop_on', 'Statuses that fail the request at once, without retries (the message itself is not dropped: it fails).', { default: [], advanced: true }),
    field.intList('successful_on', 'Non-2xx statuses that count as success (e.g. 303, 409). 2xx always succeed unless listed in backoff_on or drop_on.', { default: [], advanced: true }),
    field.string('proxy_url', 'An HTTP proxy for the requests (http:// only).', { optional: true, advanced: true }),
    transportField(),
  ];
}

// ---------------------------------------------------------------------------------------------
// Status classification

export type StatusClass = 'success' | 'drop' | 'backoff' | 'retry';

export interface StatusRules {
  readonly backoffOn: ReadonlySet<number>;
  readonly dropOn: ReadonlySet<number>;
  readonly successfulOn: ReadonlySet<number>;
}

export function statusRules(conf: Pick<HttpClientConfig, 'backoff_on' | 'drop_on' | 'successful_on'>): StatusRules {
  return { backoffOn: new Set(conf.backoff_on), dropOn: new Set(conf.drop_on), successfulOn: new Set(conf.successful_on) };
}

/** drop_on wins over backoff_on, which wins over successful_on and the 2xx range. */
export function classifyStatus(code: number, rules: StatusRules): StatusClass {
  if (rules.dropOn.has(code)) return 'drop';
  if (rules.backoffOn.has(code)) return 'backoff';
  if (rules.successfulOn.has(code)) return 'success';
  return code >= 200 && code <= 299 ? 'success' : 'retry';
}

// ---------------------------------------------------------------------------------------------
// Errors and redaction

const SECRET_PARAM = /pass|secret|token|key|auth|sig|credential|session/i;

/** The URL with its password and secret-looking query values replaced, fit for logs and errors. */
export function redactUrl(raw: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(raw));
  } catch {
    return String(raw).replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:xxxxx@');
  }
  if (u.password) u.password = 'xxxxx';
  for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, 'xxxxx');
  return u.toString();
}

/** A response whose status did not count as success. */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly body: Buffer;
  readonly headers: http.IncomingHttpHeaders;
  constructor(url: string, status: number, statusText: string, body: Buffer, headers: http.IncomingHttpHeaders) {
    const snippet = body.length ? `, body: ${body.subarray(0, 512).toString('utf8')}${body.length > 512 ? '…' : ''}` : '';
    super(`HTTP request to ${url} returned unexpected response code (${status}): ${status} ${statusText}${snippet}`);
    this.name = 'HttpStatusError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** The request never got a response (refused, reset, DNS, TLS, timeout). */
export class HttpRequestError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HttpRequestError';
  }
}

export function errText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof AggregateError && err.errors.length) return errText(err.errors[0]);
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message || String(code ?? err.name);
  }
  return String(err);
}

// ---------------------------------------------------------------------------------------------
// Metadata filters

/** Matches keys by prefix or regular expression; matches nothing when both lists are empty. */
export class MetadataFilter {
  readonly #prefixes: readonly string[];
  readonly #patterns: readonly RegExp[];
  readonly empty: boolean;

  constructor(conf: MetadataFilterConfig | undefined) {
    this.#prefixes = conf?.include_prefixes ?? [];
    this.#patterns = (conf?.include_patterns ?? []).map((p) => new RegExp(p));
    this.empty = this.#prefixes.length === 0 && this.#patterns.length === 0;
  }

  match(key: string): boolean {
    if (this.empty) return false;
    for (const p of this.#prefixes) if (key.startsWith(p)) return true;
    for (const r of this.#patterns) if (r.test(key)) return true;
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// TLS

/** TLS options for node:https / ws from the shared `tls` group; undefined when not enabled. */
export function tlsOptions(conf: TlsConfig | undefined): tls.ConnectionOptions | undefined {
  if (!conf?.enabled) return undefined;
  const opts: tls.ConnectionOptions = { rejectUnauthorized: !conf.skip_cert_verify };
  const cas: string[] = [];
  if (conf.root_cas) cas.push(conf.root_cas);
  if (conf.root_cas_file) cas.push(readFileSync(conf.root_cas_file, 'utf8'));
  if (cas.length) opts.ca = [...tls.rootCertificates, ...cas];
  const certs: string[] = [];
  const keys: { pem: string; passphrase?: string }[] = [];
  for (const c of conf.client_certs ?? []) {
    const cert = c.cert || (c.cert_file ? readFileSync(c.cert_file, 'utf8') : '');
    const key = c.key || (c.key_file ? readFileSync(c.key_file, 'utf8') : '');
    if (!cert || !key) throw new Error('tls.client_certs: each entry needs cert and key (or cert_file and key_file)');
    certs.push(cert);
    keys.push(c.password ? { pem: key, passphrase: c.password } : { pem: key });
  }
  if (certs.length) {
    opts.cert = certs;
    opts.key = keys;
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Auth

export function basicAuthHeader(username: string, password: string): string {
  return 'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** RFC 3986 percent-encoding, as OAuth 1 requires. */
function pct(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * An OAuth 1.0 `Authorization` header (RFC 5849, HMAC-SHA1, with `oauth_version="1.0"`). Query
 * parameters of the URL and, for form-encoded bodies, the form parameters take part in the
 * signature.
 */
export function oauth1Header(
  conf: OAuth1Config,
  method: string,
  rawUrl: string,
  opts: { nonce?: string; timestamp?: number; formParams?: readonly [string, string][] } = {},
): string {
  const nonce = opts.nonce ?? randomBytes(16).toString('hex');
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const u = new URL(rawUrl);
  const oauth: [string, string][] = [
    ['oauth_consumer_key', conf.consumer_key],
    ['oauth_nonce', nonce],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', String(timestamp)],
  ];
  if (conf.access_token) oauth.push(['oauth_token', conf.access_token]);
  oauth.push(['oauth_version', '1.0']);
  const params: [string, string][] = [...oauth];
  for (const [k, v] of u.searchParams) params.push([k, v]);
  if (opts.formParams) params.push(...opts.formParams);
  const encoded = params.map(([k, v]) => [pct(k), pct(v)] as const).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  const paramString = encoded.map(([k, v]) => `${k}=${v}`).join('&');
  const port = u.port && !((u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443')) ? `:${u.port}` : '';
  const baseUrl = `${u.protocol}//${u.hostname.toLowerCase()}${port}${u.pathname}`;
  const base = `${method.toUpperCase()}&${pct(baseUrl)}&${pct(paramString)}`;
  const key = `${pct(conf.consumer_secret)}&${pct(conf.access_token_secret)}`;
  const signature = createHmac('sha1', key).update(base).digest('base64');
  oauth.push(['oauth_signature', signature]);
  return 'OAuth ' + oauth.map(([k, v]) => `${pct(k)}="${pct(v)}"`).join(', ');
}

const JWT_ALGS: Record<string, { hash: string | null; kind: 'rsa' | 'pss' | 'ec' | 'ed' }> = {
  RS256: { hash: 'sha256', kind: 'rsa' },
  RS384: { hash: 'sha384', kind: 'rsa' },
  RS512: { hash: 'sha512', kind: 'rsa' },
  PS256: { hash: 'sha256', kind: 'pss' },
  PS384: { hash: 'sha384', kind: 'pss' },
  PS512: { hash: 'sha512', kind: 'pss' },
  ES256: { hash: 'sha256', kind: 'ec' },
  ES384: { hash: 'sha384', kind: 'ec' },
  ES512: { hash: 'sha512', kind: 'ec' },
  EdDSA: { hash: null, kind: 'ed' },
};

/** JSON with object keys sorted, as Go encodes maps (so tokens are byte-identical to Benthos'). */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(sortedJson).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + sortedJson(o[k])).join(',') + '}';
  }
  return JSON.stringify(v) ?? 'null';
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Signs a JWT (compact form) with a PEM private key. */
export function signJwt(key: KeyObject, method: string, claims: Record<string, unknown>, headers: Record<string, unknown> = {}): string {
  const alg = JWT_ALGS[method];
  if (!alg) throw new Error(`jwt.signing_method ${JSON.stringify(method)} is not supported; use one of ${Object.keys(JWT_ALGS).join(', ')}`);
  const header = { ...headers, alg: method, typ: 'JWT' };
  const input = `${b64url(sortedJson(header))}.${b64url(sortedJson(claims))}`;
  const data = Buffer.from(input);
  let sig: Buffer;
  switch (alg.kind) {
    case 'rsa':
      sig = cryptoSign(alg.hash, data, key);
      break;
    case 'pss':
      sig = cryptoSign(alg.hash, data, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST });
      break;
    case 'ec':
      sig = cryptoSign(alg.hash, data, { key, dsaEncoding: 'ieee-p1363' });
      break;
    case 'ed':
      sig = cryptoSign(null, data, key);
      break;
  }
  return `${input}.${b64url(sig)}`;
}

interface CachedToken {
  readonly header: string;
  /** ms timestamp after which the token is refreshed; Infinity when the provider gave no expiry. */
  readonly refreshAt: number;
}

/** Fetches OAuth 2 client-credentials tokens and caches them until 10 s before they expire. */
export class OAuth2TokenSource {
  readonly #conf: OAuth2Config;
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  #cached: CachedToken | undefined;
  #pending: Promise<CachedToken> | undefined;
  /** Credentials in the body instead of a basic auth header (learnt when the header is refused). */
  #inBody = false;

  constructor(conf: OAuth2Config, transport: Transport, timeoutMs: number) {
    if (!conf.token_url) throw new Error('oauth2.token_url is required when oauth2 is enabled');
    this.#conf = conf;
    this.#transport = transport;
    this.#timeoutMs = timeoutMs;
  }

  async header(signal?: AbortSignal): Promise<string> {
    const c = this.#cached;
    if (c && Date.now() < c.refreshAt) return c.header;
    this.#pending ??= this.#fetch(signal).finally(() => (this.#pending = undefined));
    return (await this.#pending).header;
  }

  /** Forget the token (after a 401) so the next request fetches a new one. */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #fetch(signal?: AbortSignal): Promise<CachedToken> {
    let res = await this.#request(this.#inBody, signal);
    if (!this.#inBody && (res.status === 400 || res.status === 401)) {
      // Like Go's oauth2 auto-detection: some providers want the credentials in the body.
      const retry = await this.#request(true, signal);
      if (retry.status >= 200 && retry.status <= 299) this.#inBody = true;
      res = retry;
    }
    const where = redactUrl(this.#conf.token_url);
    if (res.status < 200 || res.status > 299) {
      throw new HttpRequestError(`oauth2: cannot fetch token from ${where}: status ${res.status}${oauthErrorDetail(res.body)}`);
    }
    const tok = parseTokenResponse(res.body, String(res.headers['content-type'] ?? ''));
    if (!tok.access_token) throw new HttpRequestError(`oauth2: the token response of ${where} has no access_token`);
    const type = !tok.token_type || tok.token_type.toLowerCase() === 'bearer' ? 'Bearer' : tok.token_type;
    const expiresIn = Number(tok.expires_in);
    const refreshAt = Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 - 10_000 : Infinity;
    const token = { header: `${type} ${tok.access_token}`, refreshAt };
    this.#cached = token;
    return token;
  }

  #request(credsInBody: boolean, signal?: AbortSignal): Promise<RawResponse> {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.#conf.scopes.length) body.set('scope', this.#conf.scopes.join(' '));
    for (const [k, v] of Object.entries(this.#conf.endpoint_params ?? {})) {
      for (const x of Array.isArray(v) ? v : [v]) body.append(k, String(x));
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (credsInBody) {
      body.set('client_id', this.#conf.client_key);
      body.set('client_secret', this.#conf.client_secret);
    } else {
      headers.authorization = basicAuthHeader(encodeURIComponent(this.#conf.client_key), encodeURIComponent(this.#conf.client_secret));
    }
    return this.#transport.request({ url: new URL(this.#conf.token_url), method: 'POST', headers, body: Buffer.from(body.toString()), timeoutMs: this.#timeoutMs, signal, followRedirects: true });
  }
}

function oauthErrorDetail(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8')) as { error?: unknown; error_description?: unknown };
    if (typeof j.error === 'string') return ` (${j.error}${typeof j.error_description === 'string' ? ': ' + j.error_description : ''})`;
  } catch {
    // not JSON: say nothing more (the body might echo credentials)
  }
  return '';
}

function parseTokenResponse(body: Buffer, contentType: string): { access_token?: string; token_type?: string; expires_in?: unknown } {
  const text = body.toString('utf8');
  if (/application\/x-www-form-urlencoded|text\/plain/.test(contentType)) {
    const p = new URLSearchParams(text);
    return { access_token: p.get('access_token') ?? undefined, token_type: p.get('token_type') ?? undefined, expires_in: p.get('expires_in') ?? undefined };
  }
  try {
    return JSON.parse(text) as { access_token?: string; token_type?: string; expires_in?: unknown };
  } catch {
    const p = new URLSearchParams(text);
    return { access_token: p.get('access_token') ?? undefined, token_type: p.get('token_type') ?? undefined, expires_in: p.get('expires_in') ?? undefined };
  }
}

/** Adds the configured auth (basic, OAuth 1, OAuth 2, JWT) to requests. */
export class Authenticator {
  readonly #basic: string | undefined;
  readonly #oauth1: OAuth1Config | undefined;
  readonly #oauth2: OAuth2TokenSource | undefined;
  readonly #jwt: string | undefined;
  readonly none: boolean;

  /** `transport` fetches OAuth 2 tokens (a default one is made when needed and not given). */
  constructor(conf: AuthConfig, transport: Transport | undefined, timeoutMs: number) {
    if (conf.basic_auth?.enabled) this.#basic = basicAuthHeader(conf.basic_auth.username, conf.basic_auth.password);
    if (conf.oauth?.enabled) this.#oauth1 = conf.oauth;
    if (conf.oauth2?.enabled) this.#oauth2 = new OAuth2TokenSource(conf.oauth2, transport ?? new Transport(), timeoutMs);
    // Claims are static, so the token is signed once.
    if (conf.jwt?.enabled) this.#jwt = 'Bearer ' + this.#signJwt(conf.jwt);
    this.none = !this.#basic && !this.#oauth1 && !this.#oauth2 && !this.#jwt;
  }

  #signJwt(conf: JwtConfig): string {
    if (!conf.private_key_file) throw new Error('jwt.private_key_file is required when jwt is enabled');
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(conf.private_key_file, 'utf8'));
    } catch (err) {
      throw new Error(`jwt: cannot read the private key in ${conf.private_key_file}: ${errText(err)}`);
    }
    return signJwt(key, conf.signing_method, conf.claims ?? {}, conf.headers ?? {});
  }

  /** Sets the Authorization header. When several methods are enabled, JWT wins, then basic, OAuth 2, OAuth 1. */
  async apply(headers: http.OutgoingHttpHeaders, method: string, url: string, signal?: AbortSignal, body?: Uint8Array): Promise<void> {
    if (this.none) return;
    if (this.#oauth1) {
      let formParams: [string, string][] | undefined;
      if (body && body.byteLength && /application\/x-www-form-urlencoded/i.test(headerValue(headers, 'content-type'))) {
        formParams = [...new URLSearchParams(Buffer.from(body).toString('utf8'))];
      }
      headers.authorization = oauth1Header(this.#oauth1, method, url, { formParams });
    }
    if (this.#oauth2) headers.authorization = await this.#oauth2.header(signal);
    if (this.#basic) headers.authorization = this.#basic;
    if (this.#jwt) headers.authorization = this.#jwt;
  }

  /** Called on a 401: a cached OAuth 2 token is dropped so the next attempt fetches another. */
  unauthorized(): void {
    this.#oauth2?.invalidate();
  }
}

// ---------------------------------------------------------------------------------------------
// Transport

export interface RawResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface StreamResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Readable;
  /** Ends the response (closes the connection). */
  destroy(): void;
}

export interface RequestSpec {
  readonly url: URL;
  readonly method: string;
  readonly headers: http.OutgoingHttpHeaders;
  readonly body?: Uint8Array | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly followRedirects: boolean;
}

export interface TransportOptions {
  readonly tls?: tls.ConnectionOptions | undefined;
  readonly proxyUrl?: string | undefined;
  readonly maxSockets?: number;
  readonly maxIdle?: number;
  readonly idleTimeoutMs?: number;
  readonly keepAliveMs?: number;
}

const MAX_REDIRECTS = 10;

/** node:http(s) with keep-alive agents; one per component. */
export class Transport {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #proxy: URL | undefined;

  constructor(opts: TransportOptions = {}) {
    const common: http.AgentOptions = {
      keepAlive: true,
      keepAliveMsecs: opts.keepAliveMs ?? 30_000,
      maxSockets: opts.maxSockets ?? 256,
      maxFreeSockets: opts.maxIdle && opts.maxIdle > 0 ? opts.maxIdle : 256,
      timeout: opts.idleTimeoutMs ?? 90_000,
    };
    this.#http = new http.Agent(common);
    this.#https = new https.Agent({ ...common, ...opts.tls });
    if (opts.proxyUrl) {
      const p = new URL(opts.proxyUrl);
      if (p.protocol !== 'http:') throw new Error(`proxy_url ${redactUrl(p)}: only http:// proxies are supported`);
      this.#proxy = p;
    }
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  /** One request (following redirects when asked), body read whole. Never retries. */
  async request(spec: RequestSpec): Promise<RawResponse> {
    let cur = spec;
    for (let hop = 0; ; hop++) {
      const res = await this.#once(cur, false);
      const next = spec.followRedirects && hop < MAX_REDIRECTS ? redirectOf(cur, res.status, res.headers) : undefined;
      if (!next) return { status: res.status, statusText: res.statusText, headers: res.headers, body: await res.read() };
      res.discard();
      cur = next;
    }
  }

  /** Like request, but the body is handed back as a stream (the timeout covers only the headers). */
  async stream(spec: RequestSpec): Promise<StreamResponse> {
    let cur = spec;
    for (let hop = 0; ; hop++) {
      const res = await this.#once(cur, true);
      const next = spec.followRedirects && hop < MAX_REDIRECTS ? redirectOf(cur, res.status, res.headers) : undefined;
      if (!next) return { status: res.status, statusText: res.statusText, headers: res.headers, body: res.stream, destroy: () => res.stream.destroy() };
      res.discard();
      cur = next;
    }
  }

  #once(spec: RequestSpec, streaming: boolean): Promise<Pending> {
    const { url } = spec;
    const secure = url.protocol === 'https:' || url.protocol === 'wss:';
    if (!secure && url.protocol !== 'http:' && url.protocol !== 'ws:') {
      return Promise.reject(new HttpRequestError(`unsupported URL scheme ${url.protocol} in ${redactUrl(url)}`));
    }
    const headers = { ...spec.headers };
    if (!hasHeader(headers, 'accept-encoding')) headers['accept-encoding'] = 'gzip';
    // Always framed: node adds no Content-Length to a GET with a body, which would corrupt the connection.
    const len = spec.body?.byteLength ?? 0;
    if (len > 0 || (spec.method !== 'GET' && spec.method !== 'HEAD')) {
      deleteHeader(headers, 'content-length');
      headers['content-length'] = len;
    }
    const options: https.RequestOptions = { method: spec.method, headers, agent: secure ? this.#https : this.#http };
    if (this.#proxy && !secure) {
      // Plain HTTP through a proxy: the absolute URL is the request target.
      options.host = this.#proxy.hostname;
      options.port = this.#proxy.port || 80;
      options.path = url.toString();
      headers.host = url.host;
      if (this.#proxy.username) headers['proxy-authorization'] = basicAuthHeader(decodeURIComponent(this.#proxy.username), decodeURIComponent(this.#proxy.password));
    } else {
      options.protocol = secure ? 'https:' : 'http:';
      options.hostname = url.hostname.replace(/^\[|\]$/g, '');
      options.port = url.port || (secure ? 443 : 80);
      options.path = url.pathname + url.search;
      if (this.#proxy) return this.#tunnel(spec, options, streaming);
    }
    return this.#send(spec, options, secure, streaming);
  }

  /** HTTPS through an HTTP proxy: CONNECT, then TLS over the tunnel (not pooled). */
  async #tunnel(spec: RequestSpec, options: https.RequestOptions, streaming: boolean): Promise<Pending> {
    const proxy = this.#proxy!;
    const target = `${options.hostname}:${options.port}`;
    const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { host: target };
      if (proxy.username) headers['proxy-authorization'] = basicAuthHeader(decodeURIComponent(proxy.username), decodeURIComponent(proxy.password));
      const req = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: target, headers, signal: spec.signal });
      const timer = setTimeout(() => req.destroy(new Error(`proxy CONNECT timed out after ${spec.timeoutMs}ms`)), spec.timeoutMs);
      req.once('connect', (res, sock) => {
        clearTimeout(timer);
        if (res.statusCode !== 200) {
          sock.destroy();
          reject(new HttpRequestError(`proxy ${redactUrl(proxy)} refused CONNECT to ${target}: status ${res.statusCode}`));
        } else resolve(sock);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(new HttpRequestError(`proxy ${redactUrl(proxy)} failed: ${errText(err)}`, err));
      });
      req.end();
    });
    const agentOpts = (this.#https as unknown as { options: tls.ConnectionOptions }).options;
    const tlsSocket = tls.connect({ ...agentOpts, socket, servername: String(options.hostname) });
    return this.#send(spec, { ...options, agent: false, createConnection: () => tlsSocket }, true, streaming);
  }

  #send(spec: RequestSpec, options: https.RequestOptions, secure: boolean, streaming: boolean): Promise<Pending> {
    const where = redactUrl(spec.url);
    return new Promise<Pending>((resolve, reject) => {
      let settled = false;
      let body: Readable | undefined;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        spec.signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const req = (secure ? https : http).request(options, (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        spec.signal?.removeEventListener('abort', onAbort);
        body = decoded(res);
        // A whole-body read stays under the timeout (as Go's client timeout); a stream does not.
        if (streaming) clearTimeout(timer);
        resolve(pendingResponse(res, body, () => clearTimeout(timer)));
      });
      const timer = setTimeout(() => {
        const e = new HttpRequestError(`HTTP request to ${where} timed out after ${spec.timeoutMs}ms`);
        req.destroy(e);
        body?.destroy(e);
        fail(e);
      }, spec.timeoutMs);
      const onAbort = () => {
        const e = new HttpRequestError(`HTTP request to ${where} aborted`);
        req.destroy(e);
        fail(e);
      };
      if (spec.signal?.aborted) return onAbort();
      spec.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => fail(err instanceof HttpRequestError ? err : new HttpRequestError(`HTTP request to ${where} failed: ${errText(err)}`, err)));
      if (spec.body && spec.body.byteLength) req.end(spec.body);
      else req.end();
    });
  }
}

interface Pending {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly stream: Readable;
  read(): Promise<Buffer>;
  discard(): void;
}

function pendingResponse(res: http.IncomingMessage, stream: Readable, done: () => void): Pending {
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    headers: res.headers,
    stream,
    read: () =>
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
        });
        stream.once('end', () => {
          done();
          resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
        });
        stream.once('error', (err) => {
          done();
          reject(err instanceof HttpRequestError ? err : new HttpRequestError(`reading the response failed: ${errText(err)}`, err));
        });
      }),
    discard: () => {
      done();
      res.resume();
    },
  };
}

function decoded(res: http.IncomingMessage): Readable {
  const enc = String(res.headers['content-encoding'] ?? '').toLowerCase();
  if (enc !== 'gzip') return res;
  const gunzip = zlib.createGunzip();
  res.on('error', (e) => gunzip.destroy(e));
  delete res.headers['content-encoding'];
  delete res.headers['content-length'];
  return res.pipe(gunzip);
}

function headerValue(h: http.OutgoingHttpHeaders, name: string): string {
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name) return String(v);
  return '';
}

function hasHeader(h: http.OutgoingHttpHeaders, name: string): boolean {
  for (const k of Object.keys(h)) if (k.toLowerCase() === name) return true;
  return false;
}

function redirectOf(spec: RequestSpec, status: number, headers: http.IncomingHttpHeaders): RequestSpec | undefined {
  if (![301, 302, 303, 307, 308].includes(status) || !headers.location) return undefined;
  const url = new URL(headers.location, spec.url);
  const keepBody = status === 307 || status === 308;
  const method = keepBody || spec.method === 'GET' || spec.method === 'HEAD' ? spec.method : 'GET';
  const h: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(spec.headers)) {
    const lk = k.toLowerCase();
    if (!keepBody && (lk === 'content-type' || lk === 'content-length')) continue;
    // Credentials are not sent to another host.
    if (url.host !== spec.url.host && (lk === 'authorization' || lk === 'cookie')) continue;
    h[k] = v;
  }
  return { ...spec, url, method, headers: h, body: keepBody ? spec.body : undefined };
}

// ---------------------------------------------------------------------------------------------
// Multipart

export interface Part {
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

const CRLF = Buffer.from('\r\n');

export function newBoundary(): string {
  return randomBytes(15).toString('hex');
}

/** An RFC 2046 multipart body. */
export function encodeMultipart(parts: readonly Part[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\n`;
    for (const [k, v] of Object.entries(p.headers)) head += `${k}: ${v}\r\n`;
    chunks.push(Buffer.from(head + '\r\n'), Buffer.from(p.body.buffer, p.body.byteOffset, p.body.byteLength), CRLF);
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** Parts of a multipart body; header names lowercased. */
export function decodeMultipart(body: Buffer, boundary: string): Part[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    let start = pos + delim.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing delimiter
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    else if (body[start] === 0x0a) start += 1;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    let end = next;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    const chunk = body.subarray(start, end);
    let sep = chunk.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (sep < 0) {
      sep = chunk.indexOf('\n\n');
      sepLen = 2;
    }
    const headers: Record<string, string> = {};
    let content: Buffer = chunk;
    if (sep >= 0) {
      for (const line of chunk.subarray(0, sep).toString('utf8').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      content = chunk.subarray(sep + sepLen);
    } else if (chunk.length === 0 || chunk[0] === 0x0d || chunk[0] === 0x0a) {
      content = chunk.subarray(chunk[0] === 0x0d ? 2 : chunk.length ? 1 : 0);
    }
    parts.push({ headers, body: content });
    pos = next;
  }
  return parts;
}

export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\//i.test(contentType.trim())) return undefined;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The client

export interface MultipartFieldConfig {
  content_type: string;
  content_disposition: string;
  body: string;
}

export interface ClientOptions {
  /** Explicit multipart parts (http_client output `multipart`). */
  readonly multipart?: readonly MultipartFieldConfig[];
  /**
   * The client polls for an input: the body is `payload` (rendered against the previous
   * message) or nothing, never the message itself.
   */
  readonly input?: boolean;
  /** Request body of an input (`payload`), rendered per request. */
  readonly payload?: string | undefined;
}

export interface SendResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Interp {
  readonly name: string;
  readonly value: InterpolatedString;
}

const DUMP_LEVELS: Record<string, Exclude<LogLevel, 'off'>> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'error' };

function duration(text: string, fallback: number): number {
  return parseDuration(text) ?? fallback;
}

/**
 * Sends message batches as HTTP requests with retries, auth, rate limiting and timeouts, and
 * turns responses into messages. Built once per component.
 */
export class HttpClient {
  readonly transport: Transport;
  readonly auth: Authenticator;
  readonly #conf: HttpClientConfig;
  readonly #ctx: ComponentContext;
  readonly #url: InterpolatedString;
  readonly #staticUrl: URL | undefined;
  readonly #headers: readonly Interp[];
  readonly #contentType: InterpolatedString | undefined;
  readonly #metaOut: MetadataFilter;
  readonly #metaIn: MetadataFilter;
  readonly #rules: StatusRules;
  readonly #timeoutMs: number;
  readonly #retryMs: number;
  readonly #maxBackoffMs: number;
  readonly #verb: string;
  readonly #multipart: readonly { contentType: InterpolatedString; disposition: InterpolatedString; body: InterpolatedString }[];
  readonly #payload: InterpolatedString | undefined;
  readonly #input: boolean;
  readonly #dump: Exclude<LogLevel, 'off'> | undefined;
  readonly #log: Logger;
  #rateLimit: RateLimit | undefined;

  constructor(conf: HttpClientConfig, ctx: ComponentContext, opts: ClientOptions = {}) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#log = ctx.logger;
    this.#url = ctx.bloblang.interpolate(conf.url);
    if (this.#url.isStatic) {
      try {
        this.#staticUrl = new URL(conf.url);
      } catch {
        throw new Error(`url ${JSON.stringify(redactUrl(conf.url))} is not a valid URL`);
      }
    }
    const headers: Interp[] = [];
    let contentType: InterpolatedString | undefined;
    for (const [k, v] of Object.entries(conf.headers)) {
      const value = ctx.bloblang.interpolate(v);
      if (k.toLowerCase() === 'content-type') contentType = value;
      headers.push({ name: k, value });
    }
    this.#headers = headers;
    this.#contentType = contentType;
    this.#metaOut = new MetadataFilter(conf.metadata);
    this.#metaIn = new MetadataFilter(conf.extract_headers);
    this.#rules = statusRules(conf);
    this.#timeoutMs = duration(conf.timeout, 5000);
    this.#retryMs = duration(conf.retry_period, 1000);
    this.#maxBackoffMs = duration(conf.max_retry_backoff, 300_000);
    this.#verb = conf.verb.toUpperCase();
    this.#multipart = (opts.multipart ?? []).map((p) => ({
      contentType: ctx.bloblang.interpolate(p.content_type),
      disposition: ctx.bloblang.interpolate(p.content_disposition),
      body: ctx.bloblang.interpolate(p.body),
    }));
    this.#input = opts.input ?? false;
    this.#payload = opts.payload !== undefined && opts.payload !== '' ? ctx.bloblang.interpolate(opts.payload) : undefined;
    this.#dump = conf.dump_request_log_level ? DUMP_LEVELS[conf.dump_request_log_level.toUpperCase()] : undefined;
    const t = conf.transport;
    this.transport = new Transport({
      tls: tlsOptions(conf.tls),
      proxyUrl: conf.proxy_url || undefined,
      maxIdle: t?.max_idle_connections,
      idleTimeoutMs: t ? duration(t.idle_connection_timeout, 90_000) : undefined,
      keepAliveMs: t ? duration(t.dial_context.keep_alive, 30_000) : undefined,
    });
    this.auth = new Authenticator(conf, this.transport, this.#timeoutMs);
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The URL for a message, redacted: for errors and logs. */
  describeUrl(batch: Batch = [], index = 0): string {
    try {
      return redactUrl(this.#staticUrl ?? this.#url.render(batch, index));
    } catch {
      return '(url)';
    }
  }

  close(): void {
    this.transport.close();
  }

  #resolveUrl(batch: Batch, index: number): URL {
    if (this.#staticUrl) return this.#staticUrl;
    const s = this.#url.render(batch, index);
    try {
      return new URL(s);
    } catch {
      throw new HttpRequestError(`url ${JSON.stringify(redactUrl(s))} is not a valid URL`);
    }
  }

  /** Headers of a request for `batch[index]`: configured headers, then matching metadata. */
  #requestHeaders(batch: Batch, index: number, withMeta: boolean): http.OutgoingHttpHeaders {
    const h: http.OutgoingHttpHeaders = {};
    if (batch.length === 0) {
      for (const x of this.#headers) if (x.value.isStatic) h[x.name] = x.value.render(batch, 0);
      return h;
    }
    for (const x of this.#headers) h[x.name] = x.value.render(batch, index);
    if (withMeta && !this.#metaOut.empty) {
      for (const [k, v] of batch[index]!.metaEntries()) if (this.#metaOut.match(k)) h[k] = metaToString(v);
    }
    return h;
  }

  /** Builds the request for a batch: one message as the body, several as multipart/mixed. */
  #build(batch: Batch): { url: URL; headers: http.OutgoingHttpHeaders; body: Uint8Array | undefined } {
    const url = this.#resolveUrl(batch, 0);
    if (this.#multipart.length) {
      const headers = this.#requestHeaders(batch, 0, true);
      const boundary = newBoundary();
      const parts = this.#multipart.map((p) => {
        const ph: Record<string, string> = {};
        const ct = batch.length ? p.contentType.render(batch, 0) : '';
        const cd = batch.length ? p.disposition.render(batch, 0) : '';
        if (ct) ph['Content-Type'] = ct;
        if (cd) ph['Content-Disposition'] = cd;
        return { headers: ph, body: Buffer.from(batch.length ? p.body.render(batch, 0) : '') };
      });
      deleteHeader(headers, 'content-type');
      headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
      return { url, headers, body: encodeMultipart(parts, boundary) };
    }
    if (this.#input || batch.length <= 1) {
      const headers = this.#requestHeaders(batch, 0, true);
      let body: Uint8Array | undefined;
      if (this.#input) body = this.#payload ? Buffer.from(this.#payload.render(batch.length ? batch : [new Message()], 0)) : undefined;
      else if (batch.length) body = batch[0]!.bytes();
      return { url, headers, body };
    }
    const headers = this.#requestHeaders(batch, 0, false);
    const boundary = newBoundary();
    const parts = batch.map((m, i) => {
      const ph: Record<string, string> = { 'Content-Type': this.#contentType ? this.#contentType.render(batch, i) : 'application/octet-stream' };
      if (!this.#metaOut.empty) for (const [k, v] of m.metaEntries()) if (this.#metaOut.match(k)) ph[k] = metaToString(v);
      return { headers: ph, body: m.bytes() };
    });
    deleteHeader(headers, 'content-type');
    headers['Content-Type'] = `multipart/mixed; boundary=${boundary}`;
    return { url, headers, body: encodeMultipart(parts, boundary) };
  }

  async #waitRateLimit(signal?: AbortSignal): Promise<void> {
    if (!this.#conf.rate_limit) return;
    this.#rateLimit ??= this.#ctx.resources.get('rate_limit', this.#conf.rate_limit);
    for (;;) {
      const wait = await this.#rateLimit.access();
      if (wait <= 0 || signal?.aborted) return;
      await sleep(wait, signal);
    }
  }

  /**
   * Sends `batch` as one request, retrying per the status rules. Resolves with a successful
   * response; rejects with HttpStatusError (last response) or HttpRequestError.
   */
  async send(batch: Batch, signal?: AbortSignal): Promise<SendResult> {
    const req = this.#build(batch);
    return this.#sendRetrying(req.url, req.headers, req.body, signal);
  }

  async #sendRetrying(url: URL, headers: http.OutgoingHttpHeaders, body: Uint8Array | undefined, signal?: AbortSignal): Promise<SendResult> {
    let backoff: Backoff | undefined;
    const where = redactUrl(url);
    for (let attempt = 0; ; attempt++) {
      await this.#waitRateLimit(signal);
      if (signal?.aborted) throw new HttpRequestError(`HTTP request to ${where} aborted`);
      let err: Error;
      let cls: StatusClass;
      try {
        const h = this.auth.none ? headers : { ...headers };
        await this.auth.apply(h, this.#verb, url.toString(), signal, body);
        this.#dumpRequest(where, body);
        const res = await this.transport.request({ url, method: this.#verb, headers: h, body, timeoutMs: this.#timeoutMs, signal, followRedirects: this.#conf.follow_redirects });
        this.#dumpResponse(where, res);
        cls = classifyStatus(res.status, this.#rules);
        if (cls === 'success') return res;
        if (res.status === 401) this.auth.unauthorized();
        err = new HttpStatusError(where, res.status, res.statusText, res.body, res.headers);
      } catch (e) {
        if (signal?.aborted) throw e;
        err = e instanceof Error ? e : new Error(String(e));
        cls = 'retry';
      }
      if (cls === 'drop' || attempt >= this.#conf.retries) throw err;
      let wait = this.#retryMs;
      if (cls === 'backoff') {
        backoff ??= new Backoff({ initialMs: this.#retryMs, maxMs: this.#maxBackoffMs, factor: 1.5, jitter: 0.5 });
        wait = backoff.next();
      }
      this.#log.debug('HTTP request failed, retrying', { url: where, error: err.message, retry_in_ms: wait, attempt: attempt + 1 });
      await sleep(wait, signal);
      if (signal?.aborted) throw err;
    }
  }

  /** Opens a streaming request (input `stream.enabled`); a non-success status is an error. */
  async openStream(batch: Batch, signal?: AbortSignal): Promise<StreamResponse> {
    const { url, headers, body } = this.#build(batch);
    const where = redactUrl(url);
    await this.#waitRateLimit(signal);
    const h = { ...headers };
    await this.auth.apply(h, this.#verb, url.toString(), signal);
    const res = await this.transport.stream({ url, method: this.#verb, headers: h, body, timeoutMs: this.#timeoutMs, signal, followRedirects: this.#conf.follow_redirects });
    if (classifyStatus(res.status, this.#rules) !== 'success') {
      res.destroy();
      if (res.status === 401) this.auth.unauthorized();
      throw new HttpStatusError(where, res.status, res.statusText, Buffer.alloc(0), res.headers);
    }
    return res;
  }

  /**
   * Messages of a response: one per part of a multipart response, else one. Each carries
   * `http_status_code` and the response headers that `extract_headers` selects (lowercased).
   */
  responseMessages(res: Pick<SendResult, 'status' | 'headers' | 'body'>): Message[] {
    const boundary = multipartBoundary(res.headers['content-type']);
    const annotate = (m: Message, extra?: Record<string, string>) => {
      m.metaSet('http_status_code', res.status);
      this.annotate(m, res.headers);
      if (extra && !this.#metaIn.empty) for (const [k, v] of Object.entries(extra)) if (this.#metaIn.match(k)) m.metaSet(k, v);
      return m;
    };
    if (boundary) return decodeMultipart(res.body, boundary).map((p) => annotate(new Message(p.body), p.headers));
    return [annotate(new Message(res.body))];
  }

  /** Copies the response headers selected by `extract_headers` into metadata (lowercased keys). */
  annotate(m: Message, headers: http.IncomingHttpHeaders): void {
    if (this.#metaIn.empty) return;
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined) continue;
      const key = k.toLowerCase();
      if (this.#metaIn.match(key)) m.metaSet(key, Array.isArray(v) ? (v[0] ?? '') : v);
    }
  }

  #dumpRequest(where: string, body: Uint8Array | undefined): void {
    if (!this.#dump) return;
    this.#log[this.#dump]('HTTP request', { method: this.#verb, url: where, body: body ? Buffer.from(body).subarray(0, 4096).toString('utf8') : '' });
  }

  #dumpResponse(where: string, res: RawResponse): void {
    if (!this.#dump) return;
    this.#log[this.#dump]('HTTP response', { url: where, status: res.status, body: res.body.subarray(0, 4096).toString('utf8') });
  }
}

function deleteHeader(h: http.OutgoingHttpHeaders, name: string): void {
  for (const k of Object.keys(h)) if (k.toLowerCase() === name) delete h[k];
}
