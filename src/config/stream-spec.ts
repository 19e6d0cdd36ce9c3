/**
 * The top level of a Benthos/Bento stream config (and of each `x-tyk-streaming.streams.<name>`
 * object), declared with the same field specs as components so it is validated, documented and
 * exported as JSON Schema the same way.
 */
import { field, type FieldSpec } from '../engine/spec.js';
import type { StreamConfig } from '../engine/build.js';
import type { Validator } from './validate.js';

const resources = (name: string, what: string): FieldSpec =>
  field.any(name, `A list of labelled ${what} resources, referenced elsewhere with \`resource: <label>\`.`, { default: [], advanced: true });

export const streamSpec: FieldSpec = field.object('', 'A stream: one input, a pipeline of processors and one output.', [
  field.object('http', 'The service-wide HTTP server used by `http_server` components whose `address` is empty (standalone `sluice run` only; under `sluice start` the gateway listener is used).', [
    field.bool('enabled', 'Whether the server is started.', { default: true }),
    field.string('address', 'Address to listen on.', { default: '0.0.0.0:4195' }),
    field.string('root_path', 'Prefix of the built-in endpoints.', { default: '/benthos' }),
    field.bool('debug_endpoints', 'Accepted for compatibility; ignored.', { default: false, advanced: true }),
  ], { open: true, advanced: true }),
  field.input('input', 'Where messages come from.', { default: { stdin: {} } }),
  field.any('buffer', 'Accepted for compatibility; only `none` is supported (buffers would ack inputs before delivery).', { default: { none: {} }, advanced: true }),
  field.object('pipeline', 'Processors applied to every message between input and output.', [
    field.int('threads', 'Accepted for compatibility. Sluice processes batches concurrently up to the output\'s max_in_flight and keeps their order.', { default: -1 }),
    field.processors('processors', 'The processors, applied in order.', { default: [] }),
  ]),
  field.output('output', 'Where messages go.', { default: { stdout: {} } }),
  resources('input_resources', 'input'),
  resources('processor_resources', 'processor'),
  resources('output_resources', 'output'),
  resources('cache_resources', 'cache'),
  resources('rate_limit_resources', 'rate limit'),
  field.any('logger', 'Accepted for compatibility; Sluice logs through its own logger with the stream name attached.', { optional: true, advanced: true }),
  field.any('metrics', 'Accepted for compatibility; metrics are served by Sluice.', { optional: true, advanced: true }),
  field.any('tracer', 'Accepted for compatibility.', { optional: true, advanced: true }),
  field.any('tests', 'Benthos config unit tests; ignored at run time.', { optional: true, advanced: true }),
  field.duration('shutdown_timeout', 'How long in-flight messages may drain on shutdown before they are abandoned (and redelivered by sources that support it).', { default: '20s' }),
  field.duration('shutdown_delay', 'Wait before starting shutdown.', { default: '' , advanced: true }),
]);

const RESOURCE_FIELDS = [
  ['input_resources', 'input'],
  ['processor_resources', 'processor'],
  ['output_resources', 'output'],
  ['cache_resources', 'cache'],
  ['rate_limit_resources', 'rate_limit'],
] as const;

/** Validates a whole stream config at `base` (e.g. `x-tyk-streaming.streams.orders`). */
export function validateStream(v: Validator, value: unknown, base: string): StreamConfig {
  const raw = (v.field(streamSpec, value ?? {}, base) ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...raw };
  const at = (k: string) => (base ? `${base}.${k}` : k);
  for (const [key, kind] of RESOURCE_FIELDS) {
    const list = raw[key];
    if (!Array.isArray(list)) {
      v.issue(at(key), `expected an array of ${kind} resources`);
      out[key] = [];
      continue;
    }
    const labels = new Set<string>();
    out[key] = list.map((item, i) => {
      const node = v.component(kind, item, `${at(key)}[${i}]`);
      if (!node.label) v.issue(`${at(key)}[${i}]`, 'a resource needs a label');
      else if (labels.has(node.label)) v.issue(`${at(key)}[${i}].label`, `label ${node.label} is used twice`);
      labels.add(node.label);
      return node;
    });
  }
  const buffer = raw.buffer as Record<string, unknown> | undefined;
  if (buffer && typeof buffer === 'object' && !('none' in buffer)) {
    v.issue(at('buffer'), 'only the "none" buffer is supported: buffers acknowledge inputs before delivery');
  }
  return out as unknown as StreamConfig;
}
