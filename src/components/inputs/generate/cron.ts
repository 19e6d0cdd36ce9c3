/**
 * Cron schedules for the `generate` input's `interval`, compatible with what Benthos accepts there:
 *
 * - 5 fields `minute hour day-of-month month day-of-week`, or 6 with a leading `second` field
 *   (with 5 fields the second is 0);
 * - in each field: `*`, `?` (same as `*`), a value, a range `a-b`, a step `*\/n`, `a-b/n` or `a/n`
 *   (= `a-max/n`), and comma-separated lists of those; months may be named `JAN`..`DEC` and days
 *   of the week `SUN`..`SAT` (case-insensitive); day of week is 0-6 from Sunday (7 is also Sunday);
 * - descriptors `@yearly`/`@annually`, `@monthly`, `@weekly` (Sunday), `@daily`/`@midnight`,
 *   `@hourly`;
 * - an optional `TZ=<IANA zone> ` (or `CRON_TZ=`) prefix; without one the schedule runs in UTC.
 *
 * Day of month and day of week combine as in classic cron: when both are restricted a day
 * matches if either matches; when one of them is `*` or `?` only the other one counts. A field
 * counts as restricted unless it is `*`/`?` (a stepped `*\/2` is restricted, as in Benthos).
 *
 * Daylight-saving changes (the schedule matches wall-clock times in its zone):
 * - A schedule whose hour field covers every hour (e.g. `*\/10 * * * * *`, `30 * * * *`) follows
 *   the real clock: wall times skipped by a spring-forward gap simply don't happen, and wall times
 *   repeated by a fall-back overlap fire in both passes (an hourly job still runs every hour).
 * - A schedule with restricted hours (e.g. `30 1 * * *`, a daily job) fires once per matching
 *   wall time: a time inside a gap fires at the first instant after the gap (several such times
 *   collapse into that one firing), and a time inside an overlap fires in the first pass only.
 */

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldDef {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min+1, ... */
  readonly names?: readonly string[];
  /** Largest value accepted when written explicitly (day of week: 7, folded onto 0). */
  readonly explicitMax?: number;
}

const SECOND: FieldDef = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldDef = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldDef = { name: 'hour', min: 0, max: 23 };
const DOM: FieldDef = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldDef = { name: 'month', min: 1, max: 12, names: MONTHS };
const DOW: FieldDef = { name: 'day-of-week', min: 0, max: 6, names: DAYS, explicitMax: 7 };

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

/** An invalid cron expression; the message names the field and value at fault. */
export class CronError extends Error {
  override name = 'CronError';
}

/** The allowed values of one field. */
class FieldSet {
  /** `next[v]`: the smallest allowed value >= v, or -1. Indexed 0..max+1. */
  readonly #next: Int16Array;
  constructor(
    readonly def: FieldDef,
    readonly allowed: ReadonlySet<number>,
    /** Written as `*` or `?` (unrestricted, for the day-of-month/day-of-week rule). */
    readonly star: boolean,
  ) {
    this.#next = new Int16Array(def.max + 2).fill(-1);
    let nxt = -1;
    for (let v = def.max; v >= 0; v--) {
      if (allowed.has(v)) nxt = v;
      this.#next[v] = nxt;
    }
  }
  has(v: number): boolean {
    return this.allowed.has(v);
  }
  /** Smallest allowed value >= v, or -1 when there is none. */
  next(v: number): number {
    return v > this.def.max ? -1 : this.#next[v]!;
  }
  get full(): boolean {
    return this.allowed.size === this.def.max - this.def.min + 1;
  }
}

interface Wall {
  y: number;
  mo: number; // 1-12
  d: number;
  h: number;
  mi: number;
  s: number;
}

export interface CronSchedule {
  /** The expression as written. */
  readonly source: string;
  /** IANA zone the fields are matched in (`UTC` unless a `TZ=` prefix was given). */
  readonly timeZone: string;
  /** The first fire time strictly after `after` (whole seconds). */
  next(after: Date): Date;
}

/** Parses a cron expression (see the module comment). Throws a {@link CronError} when invalid. */
export function parseCron(expression: string): CronSchedule {
  const fail = (msg: string): never => {
    throw new CronError(`invalid cron expression "${expression}": ${msg}`);
  };
  let text = expression.trim();
  let timeZone = 'UTC';
  const tz = /^(?:CRON_)?TZ=(\S*)(?:\s+|$)/.exec(text);
  if (tz) {
    const zone = tz[1]!;
    if (zone === '') fail('empty time zone after TZ=');
    try {
      timeZone = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      fail(`unknown time zone "${zone}" (expected an IANA name such as Europe/London)`);
    }
    text = text.slice(tz[0].length);
  }
  if (text === '') fail('no schedule given');
  if (text.startsWith('@')) {
    const d = DESCRIPTORS[text.toLowerCase()];
    if (!d) {
      if (/^@every\b/i.test(text)) fail(`"@every" takes a duration (e.g. "@every 1m"), it is not a cron schedule`);
      fail(`unknown descriptor "${text}" (expected one of ${Object.keys(DESCRIPTORS).join(', ')})`);
    }
    text = d!;
  }
  const parts = text.split(/\s+/);
  if (parts.length === 5) parts.unshift('0');
  else if (parts.length !== 6) {
    fail(`expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with a leading second), got ${parts.length}`);
  }
  const fields = [SECOND, MINUTE, HOUR, DOM, MONTH, DOW].map((def, i) => parseField(def, parts[i]!, fail));
  const [second, minute, hour, dom, month, dow] = fields as [FieldSet, FieldSet, FieldSet, FieldSet, FieldSet, FieldSet];

  // A day-of-month that only names days some allowed month lacks would never fire (only when it
  // alone decides the day: with a restricted day-of-week too, either one matching is enough).
  if (!dom.star && dow.star) {
    const longest = (m: number) => (m === 2 ? 29 : daysInMonth(2001, m));
    const ok = [...month.allowed].some((m) => [...dom.allowed].some((d) => d <= longest(m)));
    if (!ok) {
      const months = [...month.allowed].sort((a, b) => a - b).map((m) => MONTHS[m - 1]).join(',');
      const days = [...dom.allowed].sort((a, b) => a - b).join(',');
      fail(`day-of-month ${days} never occurs in month ${months}, so the schedule would never fire`);
    }
  }
  return new Schedule(expression, timeZone, second, minute, hour, dom, month, dow);
}

function parseField(def: FieldDef, text: string, fail: (msg: string) => never): FieldSet {
  const allowed = new Set<number>();
  let star = false;
  const top = def.explicitMax ?? def.max;
  const value = (tok: string, whole: string): number => {
    let n: number;
    if (/^\d+$/.test(tok)) n = Number(tok);
    else {
      const i = def.names?.indexOf(tok.toUpperCase()) ?? -1;
      if (i < 0) {
        const hint = def.names ? ` or a name ${def.names[0]}-${def.names[def.names.length - 1]}` : '';
        return fail(`${def.name}: "${tok}" in "${whole}" is not a number${hint}`);
      }
      n = def.min + i;
    }
    if (n < def.min || n > top) fail(`${def.name}: value ${n} in "${whole}" is out of range ${def.min}-${top}`);
    return n;
  };
  for (const item of text.split(',')) {
    if (item === '') fail(`${def.name}: empty list item in "${text}"`);
    const slash = item.split('/');
    if (slash.length > 2) fail(`${def.name}: more than one "/" in "${item}"`);
    const [range, stepText] = slash as [string, string | undefined];
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) fail(`${def.name}: step "${stepText}" in "${item}" is not a positive integer`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = def.min;
      hi = def.max;
      if (step === 1) star = true;
    } else {
      if (range === '') fail(`${def.name}: missing value before "/" in "${item}"`);
      const dash = range.split('-');
      if (dash.length > 2 || dash.some((p) => p === '')) fail(`${def.name}: "${range}" is not a value or a range a-b`);
      lo = value(dash[0]!, item);
      hi = dash.length === 2 ? value(dash[1]!, item) : stepText !== undefined ? def.max : lo;
      if (lo > hi) fail(`${def.name}: range ${dash.join('-')} in "${item}" runs backwards (start after end)`);
    }
    for (let v = lo; v <= hi; v += step) allowed.add(def.explicitMax !== undefined && v === def.explicitMax ? def.min : v);
  }
  return new FieldSet(def, allowed, star);
}

function daysInMonth(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

const DAY_MS = 86_400_000;

class Schedule implements CronSchedule {
  /** Hours unrestricted: follow the real clock across DST changes (see the module comment). */
  readonly #followsClock: boolean;
  readonly #zone: Zone;
  constructor(
    readonly source: string,
    readonly timeZone: string,
    private readonly second: FieldSet,
    private readonly minute: FieldSet,
    private readonly hour: FieldSet,
    private readonly dom: FieldSet,
    private readonly month: FieldSet,
    private readonly dow: FieldSet,
  ) {
    this.#followsClock = hour.full;
    this.#zone = zoneFor(timeZone);
  }

  next(after: Date): Date {
    const ms = after.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('cron next(): invalid date');
    const t = Math.floor(ms / 1000) * 1000 + 1000;
    let r = this.#from(t);
    if (this.#followsClock && r > t) {
      // The wall-clock search moves forward from t's wall time, so from the first pass of a
      // fall-back overlap it would miss matches in the second pass: search from there too.
      const change = this.#zone.change(t, Math.min(r, t + DAY_MS));
      if (change !== undefined && change.offsetAfter < change.offsetBefore) r = Math.min(r, this.#from(change.at));
    }
    return new Date(r);
  }

  /** The first fire instant at or after t (whole seconds). */
  #from(start: number): number {
    let t = start;
    for (let guard = 0; guard < 100; guard++) {
      const target = this.#nextWall(this.#zone.wall(t));
      const wallMs = Date.UTC(target.y, target.mo - 1, target.d, target.h, target.mi, target.s);
      const at = this.#zone.instants(wallMs);
      if (at.length === 0) {
        // In a spring-forward gap: this wall time never happens.
        const end = this.#zone.change(wallMs - DAY_MS, wallMs + DAY_MS)?.at ?? t + 1000;
        if (!this.#followsClock && end >= t) return end;
        t = Math.max(end, t + 1000);
        continue;
      }
      if (at.length === 2 && !this.#followsClock) {
        // In a fall-back overlap: first pass only.
        if (at[0]! >= t) return at[0]!;
        // We are in the second pass: skip the rest of it (its wall times were all seen already).
        const tr = this.#zone.change(wallMs - DAY_MS, wallMs + DAY_MS)?.at ?? t;
        t = Math.max(tr + (at[1]! - at[0]!), t + 1000);
        continue;
      }
      const hit = at.find((x) => x >= t);
      if (hit !== undefined) return hit;
      t += 1000;
    }
    throw new Error(`cron "${this.source}": no fire time found after ${new Date(start).toISOString()}`);
  }

  #dayMatches(y: number, mo: number, d: number): boolean {
    const domOk = this.dom.has(d);
    const dowOk = this.dow.has(new Date(Date.UTC(y, mo - 1, d)).getUTCDay());
    return this.dom.star || this.dow.star ? domOk && dowOk : domOk || dowOk;
  }

  /** The first wall-clock time at or after `w` that matches every field. */
  #nextWall(w: Wall): Wall {
    let { y, mo, d, h, mi, s } = w;
    const lastYear = y + 12; // parse rejected never-firing schedules; Feb 29 recurs within 8 years
    while (y <= lastYear) {
      const mo2 = this.month.next(mo);
      if (mo2 < 0) {
        y++;
        mo = 1;
        d = 1;
        h = mi = s = 0;
        continue;
      }
      if (mo2 !== mo) {
        mo = mo2;
        d = 1;
        h = mi = s = 0;
      }
      const dim = daysInMonth(y, mo);
      let d2 = d;
      while (d2 <= dim && !this.#dayMatches(y, mo, d2)) d2++;
      if (d2 > dim) {
        mo++;
        d = 1;
        h = mi = s = 0;
        continue;
      }
      if (d2 !== d) {
        d = d2;
        h = mi = s = 0;
      }
      const h2 = this.hour.next(h);
      if (h2 < 0) {
        d++;
        h = mi = s = 0;
        continue;
      }
      if (h2 !== h) {
        h = h2;
        mi = s = 0;
      }
      const mi2 = this.minute.next(mi);
      if (mi2 < 0) {
        h++;
        mi = s = 0;
        continue;
      }
      if (mi2 !== mi) {
        mi = mi2;
        s = 0;
      }
      const s2 = this.second.next(s);
      if (s2 < 0) {
        mi++;
        s = 0;
        continue;
      }
      return { y, mo, d, h, mi, s: s2 };
    }
    throw new Error(`cron "${this.source}": no matching time within ${lastYear - w.y} years`);
  }
}

/** Wall-clock arithmetic in one IANA zone, via Intl (second resolution). */
interface Zone {
  /** The wall-clock fields at instant `t` (ms). */
  wall(t: number): Wall;
  /** The instants (ascending) whose wall clock reads `wallMs` (wall fields as if UTC): 0 in a gap, 2 in an overlap. */
  instants(wallMs: number): number[];
  /** The first instant in (lo, hi] whose UTC offset differs from lo's, with both offsets; none if the same at hi. */
  change(lo: number, hi: number): { at: number; offsetBefore: number; offsetAfter: number } | undefined;
}

const zones = new Map<string, Zone>();

function zoneFor(timeZone: string): Zone {
  let z = zones.get(timeZone);
  if (!z) {
    z = timeZone === 'UTC' ? utcZone : ianaZone(timeZone);
    zones.set(timeZone, z);
  }
  return z;
}

const utcZone: Zone = {
  wall(t) {
    const x = new Date(t);
    return { y: x.getUTCFullYear(), mo: x.getUTCMonth() + 1, d: x.getUTCDate(), h: x.getUTCHours(), mi: x.getUTCMinutes(), s: x.getUTCSeconds() };
  },
  instants: (wallMs) => [wallMs],
  change: () => undefined,
};

function ianaZone(timeZone: string): Zone {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const wall = (t: number): Wall => {
    const f: Record<string, number> = {};
    for (const p of fmt.formatToParts(new Date(t))) if (p.type !== 'literal') f[p.type] = Number(p.value);
    return { y: f.year!, mo: f.month!, d: f.day!, h: f.hour! % 24, mi: f.minute!, s: f.second! };
  };
  /** Wall clock minus UTC at instant t, in ms. */
  const offset = (t: number): number => {
    const w = wall(t);
    return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(t / 1000) * 1000;
  };
  return {
    wall,
    instants(wallMs) {
      const offsets = new Set([offset(wallMs - DAY_MS), offset(wallMs), offset(wallMs + DAY_MS)]);
      const out: number[] = [];
      for (const o of offsets) {
        const t = wallMs - o;
        if (offset(t) === o && !out.includes(t)) out.push(t);
      }
      return out.sort((a, b) => a - b);
    },
    change(lo, hi) {
      // Binary search in whole seconds (assumes at most one change in the range).
      lo = Math.floor(lo / 1000) * 1000;
      hi = Math.floor(hi / 1000) * 1000;
      const offsetBefore = offset(lo);
      const offsetAfter = offset(hi);
      if (offsetAfter === offsetBefore) return undefined;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (offset(mid) === offsetBefore) lo = mid;
        else hi = mid;
      }
      return { at: hi, offsetBefore, offsetAfter };
    },
  };
}
