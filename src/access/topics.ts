/**
 * Topic rights (a Sluice extension; Tyk has no per-topic ACL): MQTT-style patterns.
 *  - Levels are separated by `/` (MQTT, most brokers) or, when neither the pattern nor the topic
 *    has a `/`, by `.` (NATS subjects, AMQP routing keys, Kafka names like `orders.eu`).
 *  - `+` matches exactly one level, `#` (last level only) matches the rest: zero or more levels,
 *    so `a/#` matches `a`, `a/b` and `a/b/c`.
 *  - As in MQTT, wildcards at the first level do not match topics starting with `$` (`$SYS/...`).
 *  - Anything else matches literally, case-sensitively.
 */

export function topicMatches(pattern: string, topic: string): boolean {
  const sep = pattern.includes('/') || topic.includes('/') ? '/' : '.';
  const p = pattern.split(sep);
  const t = topic.split(sep);
  if (topic.startsWith('$') && (p[0] === '+' || p[0] === '#')) return false;
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    if (part === '#') return i === p.length - 1;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return p.length === t.length;
}

/** True when any pattern matches. An empty list allows nothing. */
export function topicAllowed(patterns: readonly string[], topic: string): boolean {
  for (const p of patterns) if (topicMatches(p, topic)) return true;
  return false;
}
