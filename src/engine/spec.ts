/**
 * A component declares its configuration once, as a tree of FieldSpecs. Validation (with
 * config paths and YAML lines), `sluice lint`, generated docs, JSON Schema and dashboard forms
 * are all derived from that one declaration.
 *
 * A field without `default` and without `optional` is required.
 */

export type FieldType =
  | 'string'
  | 'int'
  | 'float'
  | 'bool'
  | 'duration'
  | 'object'
  | 'any'
  | 'bloblang'
  | 'input'
  | 'output'
  | 'processor';

export type FieldKind = 'scalar' | 'array' | 'map';

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly kind: FieldKind;
  readonly description: string;
  readonly default?: unknown;
  readonly optional?: boolean;
  readonly advanced?: boolean;
  readonly secret?: boolean;
  readonly deprecated?: boolean;
  /** The field supports `${! ... }` interpolation, evaluated per message. */
  readonly interpolated?: boolean;
  readonly examples?: readonly unknown[];
  /** Allowed values (an enum). */
  readonly options?: readonly string[];
  /** Object fields: the members. */
  readonly children?: readonly FieldSpec[];
  /** Object fields: accept members that are not declared (free-form objects). */
  readonly open?: boolean;
}

type FieldOpts = Partial<Omit<FieldSpec, 'name' | 'type' | 'kind' | 'description' | 'children'>>;

function make(name: string, type: FieldType, kind: FieldKind, description: string, opts?: FieldOpts, children?: readonly FieldSpec[]): FieldSpec {
  return { name, type, kind, description, ...opts, ...(children ? { children } : {}) };
}

/** Field constructors. `name` is '' for a component's root field. */
export const field = {
  string: (name: string, description: string, opts?: FieldOpts) => make(name, 'string', 'scalar', description, opts),
  interp: (name: string, description: string, opts?: FieldOpts) => make(name, 'string', 'scalar', description, { interpolated: true, ...opts }),
  int: (name: string, description: string, opts?: FieldOpts) => make(name, 'int', 'scalar', description, opts),
  float: (name: string, description: string, opts?: FieldOpts) => make(name, 'float', 'scalar', description, opts),
  bool: (name: string, description: string, opts?: FieldOpts) => make(name, 'bool', 'scalar', description, opts),
  duration: (name: string, description: string, opts?: FieldOpts) => make(name, 'duration', 'scalar', description, opts),
  bloblang: (name: string, description: string, opts?: FieldOpts) => make(name, 'bloblang', 'scalar', description, opts),
  any: (name: string, description: string, opts?: FieldOpts) => make(name, 'any', 'scalar', description, opts),
  stringList: (name: string, description: string, opts?: FieldOpts) => make(name, 'string', 'array', description, opts),
  intList: (name: string, description: string, opts?: FieldOpts) => make(name, 'int', 'array', description, opts),
  stringMap: (name: string, description: string, opts?: FieldOpts) => make(name, 'string', 'map', description, opts),
  object: (name: string, description: string, children: readonly FieldSpec[], opts?: FieldOpts) =>
    make(name, 'object', 'scalar', description, opts, children),
  objectList: (name: string, description: string, children: readonly FieldSpec[], opts?: FieldOpts) =>
    make(name, 'object', 'array', description, opts, children),
  input: (name: string, description: string, opts?: FieldOpts) => make(name, 'input', 'scalar', description, opts),
  inputs: (name: string, description: string, opts?: FieldOpts) => make(name, 'input', 'array', description, opts),
  output: (name: string, description: string, opts?: FieldOpts) => make(name, 'output', 'scalar', description, opts),
  outputs: (name: string, description: string, opts?: FieldOpts) => make(name, 'output', 'array', description, opts),
  processors: (name: string, description: string, opts?: FieldOpts) => make(name, 'processor', 'array', description, opts),
};

/** An object field is required only when one of its members is; it then defaults to {}. */
export function isRequired(f: FieldSpec): boolean {
  if (f.default !== undefined || f.optional) return false;
  if (f.type === 'object' && f.kind === 'scalar') return (f.children ?? []).some(isRequired);
  return true;
}

// Groups of fields that many components share, so they read the same everywhere.

export const tlsFields = (): FieldSpec =>
  field.object('tls', 'Custom TLS settings.', [
    field.bool('enabled', 'Whether TLS is used.', { default: false }),
    field.bool('skip_cert_verify', 'Skip server certificate verification (unsafe).', { default: false }),
    field.bool('enable_renegotiation', 'Allow the server to renegotiate.', { default: false, advanced: true }),
    field.string('root_cas', 'PEM root certificates to trust.', { default: '', secret: true }),
    field.string('root_cas_file', 'Path of a PEM file of root certificates.', { default: '' }),
    field.objectList('client_certs', 'Client certificates.', [
      field.string('cert', 'PEM certificate.', { default: '' }),
      field.string('key', 'PEM private key.', { default: '', secret: true }),
      field.string('cert_file', 'Certificate file.', { default: '' }),
      field.string('key_file', 'Private key file.', { default: '' }),
      field.string('password', 'Password of an encrypted key.', { default: '', secret: true }),
    ], { default: [] }),
  ], { advanced: true });

export const batchingFields = (): FieldSpec =>
  field.object('batching', 'Groups messages into batches before they are sent. A batch is flushed when any non-zero condition is met.', [
    field.int('count', 'Number of messages at which to flush (0 = no limit).', { default: 0 }),
    field.int('byte_size', 'Total bytes at which to flush (0 = no limit).', { default: 0 }),
    field.duration('period', 'Time after which an incomplete batch is flushed.', { default: '' }),
    field.bloblang('check', 'A Bloblang query returning true to flush the batch after the message it is given.', { default: '' }),
    field.processors('processors', 'Processors applied to the whole batch before it is flushed.', { optional: true }),
  ], { advanced: true });

export const autoReplayNacksField = (): FieldSpec =>
  field.bool('auto_replay_nacks', 'Redeliver messages that were rejected downstream (e.g. by an output) until they are delivered. When false they are dropped.', { default: true });

export const maxInFlightField = (def: number): FieldSpec =>
  field.int('max_in_flight', 'Maximum number of messages (batches) being delivered at once. The input waits when this many are unacknowledged.', { default: def });
