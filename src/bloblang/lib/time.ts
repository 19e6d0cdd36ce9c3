/**
 * Timestamp and duration methods.
 */
import { getString, getTimestamp } from '../core.js';
import { argInt, argStr, registerMethod, simpleMethod, type MethodImpl } from '../registry.js';
import {
  RFC3339Nano,
  TimeParseError,
  addISOPeriod,
  formatGo,
  parseGo,
  parseGoDuration,
  parseISO8601Duration,
  parseISOPeriod,
  strftime,
  strptime,
} from '../timefmt.js';
import { Timestamp, errPlain, loadLocation, mkIntBig, type Loc } from '../value.js';

function loc(name: string): Loc {
  const l = loadLocation(name);
  if (!l) throw errPlain(`unknown time zone ${name}`);
  return l;
}

function wrapParse<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TimeParseError || e instanceof Error) throw errPlain(e.message);
    throw e;
  }
}

function tsFormat(name: string, category: 'timestamp' | 'deprecated'): void {
  registerMethod({
    name,
    category,
    params: [
      { name: 'format', type: 'string', default: RFC3339Nano },
      { name: 'tz', type: 'string', optional: true },
    ],
    make: (a) => {
      const format = argStr(a, 'format');
      const tzName = a['tz'] as string | undefined;
      const tz = tzName !== undefined ? loc(tzName) : undefined;
      return (v) => {
        const t = getTimestamp(v);
        return formatGo(tz ? t.in(tz) : t, format);
      };
    },
  });
}
tsFormat('ts_format', 'timestamp');
tsFormat('format_timestamp', 'deprecated');

function tsStrftime(name: string, category: 'timestamp' | 'deprecated'): void {
  registerMethod({
    name,
    category,
    params: [
      { name: 'format', type: 'string' },
      { name: 'tz', type: 'string', optional: true },
    ],
    make: (a) => {
      const format = argStr(a, 'format');
      const tzName = a['tz'] as string | undefined;
      const tz = tzName !== undefined ? loc(tzName) : undefined;
      return (v) => {
        const t = getTimestamp(v);
        return strftime(tz ? t.in(tz) : t, format);
      };
    },
  });
}
tsStrftime('ts_strftime', 'timestamp');
tsStrftime('format_timestamp_strftime', 'deprecated');

function tsParse(name: string, category: 'timestamp' | 'deprecated'): void {
  registerMethod({
    name,
    category,
    params: [{ name: 'format', type: 'string' }],
    make: (a) => {
      const format = argStr(a, 'format');
      return (v) => wrapParse(() => parseGo(format, getString(v)));
    },
  });
}
tsParse('ts_parse', 'timestamp');
tsParse('parse_timestamp', 'deprecated');

function tsStrptime(name: string, category: 'timestamp' | 'deprecated'): void {
  registerMethod({
    name,
    category,
    params: [{ name: 'format', type: 'string' }],
    make: (a) => {
      const format = argStr(a, 'format');
      return (v) => wrapParse(() => strptime(getString(v), format));
    },
  });
}
tsStrptime('ts_strptime', 'timestamp');
tsStrptime('parse_timestamp_strptime', 'deprecated');

function unixMethods(prefix: string, category: 'timestamp' | 'deprecated'): void {
  const defs: Array<[string, (t: Timestamp) => unknown]> = [
    ['', (t) => t.sec],
    ['_milli', (t) => mkIntBig(t.unixNano() / 1000000n - (t.unixNano() % 1000000n < 0n ? 1n : 0n))],
    ['_micro', (t) => mkIntBig(t.unixNano() / 1000n - (t.unixNano() % 1000n < 0n ? 1n : 0n))],
    ['_nano', (t) => mkIntBig(t.unixNano())],
  ];
  for (const [suffix, fn] of defs) {
    simpleMethod(prefix + suffix, category, (v) => fn(getTimestamp(v)));
  }
}
unixMethods('ts_unix', 'timestamp');
unixMethods('format_timestamp_unix', 'deprecated');

// Nanoseconds between year 1 and 1970 (Go's zero time), for Round().
const ZERO_OFFSET_NS = 62135596800n * 1000000000n;

registerMethod({
  name: 'ts_round',
  category: 'timestamp',
  params: [{ name: 'duration', type: 'int' }],
  make: (a) => {
    const d = BigInt(a['duration'] as number | bigint);
    return (v) => {
      const t = getTimestamp(v);
      if (d <= 0n) return t;
      const ns = t.unixNano() + ZERO_OFFSET_NS;
      let r = ns % d;
      if (r < 0n) r += d;
      const down = ns - r;
      const rounded = r + r < d ? down : down + d;
      return Timestamp.fromUnixNano(rounded - ZERO_OFFSET_NS, t.loc);
    };
  },
});

registerMethod({
  name: 'ts_tz',
  category: 'timestamp',
  params: [{ name: 'tz', type: 'string' }],
  make: (a) => {
    const tz = loc(argStr(a, 'tz'));
    return (v) => getTimestamp(v).in(tz);
  },
});

registerMethod({
  name: 'ts_sub',
  category: 'timestamp',
  params: [{ name: 't2', type: 'timestamp' }],
  make: (a) => {
    const t2 = a['t2'] as Timestamp;
    return (v) => {
      const t1 = getTimestamp(v);
      let d = t1.unixNano() - t2.unixNano();
      if (d > 9223372036854775807n) d = 9223372036854775807n;
      if (d < -9223372036854775808n) d = -9223372036854775808n;
      return mkIntBig(d);
    };
  },
});

for (const [name, sign] of [
  ['ts_add_iso8601', 1],
  ['ts_sub_iso8601', -1],
] as const) {
  registerMethod({
    name,
    category: 'timestamp',
    params: [{ name: 'duration', type: 'string' }],
    make: (a) => {
      const p = wrapParse(() => parseISOPeriod(argStr(a, 'duration')));
      const impl: MethodImpl = (v) => addISOPeriod(getTimestamp(v), p, sign);
      return impl;
    },
  });
}

simpleMethod('parse_duration', 'timestamp', (v) => mkIntBig(wrapParse(() => parseGoDuration(getString(v)))));
simpleMethod('parse_duration_iso8601', 'timestamp', (v) => mkIntBig(wrapParse(() => parseISO8601Duration(getString(v)))));

export { argInt };
