/** Pieces shared by the HTTP-facing components. */
import { field, type FieldSpec } from '../engine/spec.js';

export const corsField = (): FieldSpec =>
  field.object('cors', 'Cross-origin settings for browsers.', [
    field.bool('enabled', 'Whether CORS headers are sent.', { default: false }),
    field.stringList('allowed_origins', 'Origins allowed to connect.', { default: [] }),
  ], { advanced: true });

/** `content-type` → `Content-Type`, as Go canonicalises header keys (Benthos metadata keys). */
export function canonicalHeader(name: string): string {
  let c = canonical.get(name);
  if (c === undefined) {
    c = name.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase());
    // Header names repeat from request to request: remember them (bounded, names are short).
    if (canonical.size < 1024) canonical.set(name, c);
  }
  return c;
}

const canonical = new Map<string, string>();
