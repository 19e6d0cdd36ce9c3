/**
 * Every error Sluice raises on purpose has a stable code `SLU_ERR_<AREA>_<WHAT>`. Match on
 * `err.code`, not on the message text or the class: codes are part of the public contract and
 * docs/errors.md lists each one (test/errors.test.ts keeps code, docs and this table in step).
 */

export interface ErrorDef {
  readonly message: string;
  /** HTTP status when the error reaches a client. */
  readonly status: number;
}

export const errorCodes = {
  SLU_ERR_CONFIG_INVALID: { message: 'invalid configuration: %s', status: 400 },
  SLU_ERR_CONFIG_PARSE: { message: 'could not parse %s: %s', status: 400 },
  SLU_ERR_CONFIG_ENV_MISSING: { message: 'environment variable %s is not set and has no default', status: 400 },
  SLU_ERR_COMPONENT_UNKNOWN: { message: 'unknown %s type %s; known: %s', status: 400 },
  SLU_ERR_RESOURCE_UNKNOWN: { message: 'unknown %s resource %s', status: 400 },
  SLU_ERR_NOT_CONNECTED: { message: 'not connected', status: 503 },
  SLU_ERR_END_OF_INPUT: { message: 'end of input', status: 500 },
  SLU_ERR_TIMEOUT: { message: 'timed out: %s', status: 408 },
  SLU_ERR_SHUTTING_DOWN: { message: 'shutting down', status: 503 },
  SLU_ERR_MESSAGE_TOO_LARGE: { message: 'message of %s bytes exceeds the limit of %s bytes', status: 413 },
  SLU_ERR_NACK: { message: 'message rejected: %s', status: 502 },
  SLU_ERR_PROCESSOR_FAILED: { message: 'processor %s failed: %s', status: 500 },
  SLU_ERR_CACHE_KEY_EXISTS: { message: 'key already exists', status: 409 },
  SLU_ERR_CACHE_KEY_NOT_FOUND: { message: 'key does not exist', status: 404 },
  SLU_ERR_API_INVALID: { message: 'invalid API definition %s: %s', status: 400 },
  SLU_ERR_ROUTE_CONFLICT: { message: 'path %s is already served by %s', status: 409 },
  SLU_ERR_STORE_UNAVAILABLE: { message: 'store unavailable: %s', status: 503 },
  SLU_ERR_STORE_LOCKED: { message: 'the embedded store in %s is in use by process %s; run one process per data folder, or use PostgreSQL (--store postgres://...) for several', status: 503 },
  SLU_ERR_STORE_SCHEMA_NEWER: { message: 'the store is at schema version %s, newer than this Sluice supports (%s); upgrade Sluice', status: 500 },
  SLU_ERR_STATE_UNAVAILABLE: { message: 'rate limit and quota state unavailable: %s', status: 503 },
  SLU_ERR_ACCESS_POLICY: { message: 'policies could not be applied: %s', status: 400 },
  SLU_ERR_CONTROL_UNAUTHORIZED: { message: 'Attempted administrative access with invalid or missing key!', status: 403 },
  SLU_ERR_CONTROL_BODY_MALFORMED: { message: 'malformed JSON at line %s, column %s (position %s): %s', status: 400 },
  SLU_ERR_CONTROL_BODY_INVALID: { message: 'invalid %s: %s', status: 400 },
  SLU_ERR_CONTROL_NOT_FOUND: { message: '%s not found', status: 404 },
  SLU_ERR_CONTROL_EXISTS: { message: '%s already exists', status: 409 },
  SLU_ERR_CONTROL_METHOD: { message: 'method %s is not supported on %s', status: 405 },
  SLU_ERR_CONTROL_STARTING: { message: 'the management API is starting; try again in a few seconds', status: 503 },
  SLU_ERR_CONTROL_INTERNAL: { message: 'internal error; the gateway log has the details', status: 500 },
  SLU_ERR_CONTROL_UNREACHABLE: { message: 'cannot reach the management API at %s: %s', status: 503 },
  SLU_ERR_TLS_FILE: { message: 'cannot read the TLS %s file %s: %s', status: 500 },
  SLU_ERR_TLS_INVALID: { message: 'the TLS %s file %s is not usable: %s', status: 500 },
  SLU_ERR_TLS_MISMATCH: { message: 'the TLS certificate %s does not match the key %s', status: 500 },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof errorCodes;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, args: readonly unknown[] = [], options?: ErrorOptions) {
    super(format(errorCodes[code].message, args), options);
    this.name = 'SluiceError';
    this.code = code;
    this.status = errorCodes[code].status;
  }
}

export function sluiceError(code: ErrorCode, ...args: unknown[]): SluiceError {
  return new SluiceError(code, args);
}

export function hasCode(err: unknown, code: ErrorCode): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function format(template: string, args: readonly unknown[]): string {
  let i = 0;
  return template.replace(/%s/g, () => (i < args.length ? String(args[i++]) : ''));
}

/** Thrown by Input.read / Output.write when the connection is gone: the engine reconnects. */
export function notConnected(cause?: unknown): SluiceError {
  return new SluiceError('SLU_ERR_NOT_CONNECTED', [], cause === undefined ? undefined : { cause });
}

/** Thrown by Input.read when the input is exhausted: the stream drains and ends. */
export function endOfInput(): SluiceError {
  return new SluiceError('SLU_ERR_END_OF_INPUT');
}
