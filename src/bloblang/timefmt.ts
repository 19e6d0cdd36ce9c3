/**
 * Timestamp formatting and parsing:
 * - Go reference layouts (`2006-01-02T15:04:05Z07:00`), as time.Format / time.Parse;
 * - strftime / strptime directives (`%Y-%m-%d`), as itchyny/timefmt-go used by Benthos;
 * - Go durations (`1h30m`) and ISO 8601 durations.
 */
import {
  Timestamp,
  UTC,
  fixedZone,
  localLoc,
  setTimeStringHook,
  setTimestampFormatter,
  zoneAbbr,
  zoneOffset,
  type Loc,
} from './value.js';

// ---------------------------------------------------------------------------------------------
// Civil calendar helpers (proleptic Gregorian, days since 1970-01-01)

export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): { y: number; m: number; d: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: y + (m <= 2 ? 1 : 0), m, d };
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysIn(m: number, y: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] as number;
}

/** Broken-down local time of a timestamp in its location. */
export interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  /** 0 = Sunday. */
  wday: number;
  /** 1-based day of year. */
  yday: number;
  offset: number;
  abbr: string;
}

export function civil(t: Timestamp): Civil {
  const offset = zoneOffset(t.loc, t.sec);
  const local = t.sec + offset;
  const days = Math.floor(local / 86400);
  let rem = local - days * 86400;
  const { y, m, d } = civilFromDays(days);
  const hour = Math.floor(rem / 3600);
  rem -= hour * 3600;
  const min = Math.floor(rem / 60);
  const sec = rem - min * 60;
  const wday = (((days + 4) % 7) + 7) % 7;
  const yday = days - daysFromCivil(y, 1, 1) + 1;
  return { year: y, month: m, day: d, hour, min, sec, nsec: t.nsec, wday, yday, offset, abbr: zoneAbbr(t.loc, t.sec) };
}

/** Builds a timestamp from civil fields interpreted in a location. */
export function fromCivil(
  year: number,
  month: number,
  day: number,
  hour: number,
  min: number,
  sec: number,
  nsec: number,
  loc: Loc,
): Timestamp {
  // Normalise overflowing fields like Go's time.Date.
  let carry = Math.floor(nsec / 1e9);
  nsec -= carry * 1e9;
  sec += carry;
  carry = Math.floor(sec / 60);
  sec -= carry * 60;
  min += carry;
  carry = Math.floor(min / 60);
  min -= carry * 60;
  hour += carry;
  carry = Math.floor(hour / 24);
  hour -= carry * 24;
  day += carry;
  const m0 = month - 1;
  year += Math.floor(m0 / 12);
  month = (((m0 % 12) + 12) % 12) + 1;
  const days = daysFromCivil(year, month, 1) + day - 1;
  const localSec = days * 86400 + hour * 3600 + min * 60 + sec;
  if (loc.fixed !== null) return new Timestamp(localSec - loc.fixed, nsec, loc);
  // Resolve the offset at the instant (two passes handle DST transitions).
  let off = zoneOffset(loc, localSec);
  off = zoneOffset(loc, localSec - off);
  return new Timestamp(localSec - off, nsec, loc);
}

// ---------------------------------------------------------------------------------------------
// Go layouts

const longDayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const shortDayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const shortMonthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const longMonthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const enum Std {
  None = 0,
  LongMonth,
  Month,
  NumMonth,
  ZeroMonth,
  LongWeekDay,
  WeekDay,
  Day,
  UnderDay,
  ZeroDay,
  UnderYearDay,
  ZeroYearDay,
  Hour,
  Hour12,
  ZeroHour12,
  Minute,
  ZeroMinute,
  Second,
  ZeroSecond,
  LongYear,
  Year,
  PM,
  pm,
  TZ,
  ISO8601TZ,
  ISO8601SecondsTZ,
  ISO8601ShortTZ,
  ISO8601ColonTZ,
  ISO8601ColonSecondsTZ,
  NumTZ,
  NumSecondsTz,
  NumShortTZ,
  NumColonTZ,
  NumColonSecondsTZ,
  FracSecond0,
  FracSecond9,
}

interface Chunk {
  prefix: string;
  std: Std;
  /** Digits for fractional seconds. */
  n: number;
  /** Separator for fractional seconds ('.' or ','). */
  sep: string;
  suffix: string;
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function startsWithLower(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 97 && c <= 122;
}

/** Splits a layout at its first standard token (time/format.go nextStdChunk semantics). */
function nextStdChunk(layout: string): Chunk {
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i];
    const rest = layout.slice(i);
    const mk = (std: Std, len: number, n = 0, sep = '.'): Chunk => ({
      prefix: layout.slice(0, i),
      std,
      n,
      sep,
      suffix: layout.slice(i + len),
    });
    switch (c) {
      case 'J':
        if (rest.startsWith('Jan')) {
          if (rest.startsWith('January')) return mk(Std.LongMonth, 7);
          if (!startsWithLower(layout, i + 3)) return mk(Std.Month, 3);
        }
        break;
      case 'M':
        if (rest.startsWith('Mon')) {
          if (rest.startsWith('Monday')) return mk(Std.LongWeekDay, 6);
          if (!startsWithLower(layout, i + 3)) return mk(Std.WeekDay, 3);
        }
        if (rest.startsWith('MST')) return mk(Std.TZ, 3);
        break;
      case '0':
        if (layout[i + 1] !== undefined && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          const std = [Std.ZeroMonth, Std.ZeroDay, Std.ZeroHour12, Std.ZeroMinute, Std.ZeroSecond, Std.Year][
            Number(layout[i + 1]) - 1
          ] as Std;
          return mk(std, 2);
        }
        if (rest.startsWith('002')) return mk(Std.ZeroYearDay, 3);
        break;
      case '1':
        if (layout[i + 1] === '5') return mk(Std.Hour, 2);
        return mk(Std.NumMonth, 1);
      case '2':
        if (rest.startsWith('2006')) return mk(Std.LongYear, 4);
        return mk(Std.Day, 1);
      case '_':
        if (layout[i + 1] === '2') {
          if (rest.startsWith('_2006')) return { prefix: layout.slice(0, i + 1), std: Std.LongYear, n: 0, sep: '.', suffix: layout.slice(i + 5) };
          return mk(Std.UnderDay, 2);
        }
        if (rest.startsWith('__2')) return mk(Std.UnderYearDay, 3);
        break;
      case '3':
        return mk(Std.Hour12, 1);
      case '4':
        return mk(Std.Minute, 1);
      case '5':
        return mk(Std.Second, 1);
      case 'P':
        if (layout[i + 1] === 'M') return mk(Std.PM, 2);
        break;
      case 'p':
        if (layout[i + 1] === 'm') return mk(Std.pm, 2);
        break;
      case '-':
        if (rest.startsWith('-070000')) return mk(Std.NumSecondsTz, 7);
        if (rest.startsWith('-07:00:00')) return mk(Std.NumColonSecondsTZ, 9);
        if (rest.startsWith('-0700')) return mk(Std.NumTZ, 5);
        if (rest.startsWith('-07:00')) return mk(Std.NumColonTZ, 6);
        if (rest.startsWith('-07')) return mk(Std.NumShortTZ, 3);
        break;
      case 'Z':
        if (rest.startsWith('Z070000')) return mk(Std.ISO8601SecondsTZ, 7);
        if (rest.startsWith('Z07:00:00')) return mk(Std.ISO8601ColonSecondsTZ, 9);
        if (rest.startsWith('Z0700')) return mk(Std.ISO8601TZ, 5);
        if (rest.startsWith('Z07:00')) return mk(Std.ISO8601ColonTZ, 6);
        if (rest.startsWith('Z07')) return mk(Std.ISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        if (layout[i + 1] === '0' || layout[i + 1] === '9') {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            return mk(ch === '0' ? Std.FracSecond0 : Std.FracSecond9, j - i, j - i - 1, c);
          }
        }
        break;
    }
  }
  return { prefix: layout, std: Std.None, n: 0, sep: '.', suffix: '' };
}

function pad(n: number, width: number, ch = '0'): string {
  const s = String(Math.abs(n));
  const p = s.length < width ? ch.repeat(width - s.length) + s : s;
  return n < 0 ? '-' + p : p;
}

function fmtFrac(nsec: number, digits: number, trim: boolean, sep: string): string {
  let s = pad(nsec, 9).slice(0, digits);
  if (trim) {
    s = s.replace(/0+$/, '');
    if (s === '') return '';
  }
  return sep + s;
}

function fmtOffset(offset: number, colon: boolean, withSeconds: boolean, short: boolean): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = pad(Math.floor((abs % 3600) / 60), 2);
  const ss = pad(abs % 60, 2);
  if (short) return sign + hh;
  let s = sign + hh + (colon ? ':' : '') + mm;
  if (withSeconds) s += (colon ? ':' : '') + ss;
  return s;
}

/** time.Time.Format(layout). */
export function formatGo(t: Timestamp, layout: string): string {
  const c = civil(t);
  let out = '';
  let rest = layout;
  while (rest !== '') {
    const ch = nextStdChunk(rest);
    out += ch.prefix;
    if (ch.std === Std.None) break;
    rest = ch.suffix;
    switch (ch.std) {
      case Std.Year:
        out += pad(((c.year % 100) + 100) % 100, 2);
        break;
      case Std.LongYear:
        out += pad(c.year, 4);
        break;
      case Std.Month:
        out += shortMonthNames[c.month - 1];
        break;
      case Std.LongMonth:
        out += longMonthNames[c.month - 1];
        break;
      case Std.NumMonth:
        out += String(c.month);
        break;
      case Std.ZeroMonth:
        out += pad(c.month, 2);
        break;
      case Std.WeekDay:
        out += shortDayNames[c.wday];
        break;
      case Std.LongWeekDay:
        out += longDayNames[c.wday];
        break;
      case Std.Day:
        out += String(c.day);
        break;
      case Std.UnderDay:
        out += pad(c.day, 2, ' ');
        break;
      case Std.ZeroDay:
        out += pad(c.day, 2);
        break;
      case Std.UnderYearDay:
        out += pad(c.yday, 3, ' ');
        break;
      case Std.ZeroYearDay:
        out += pad(c.yday, 3);
        break;
      case Std.Hour:
        out += pad(c.hour, 2);
        break;
      case Std.Hour12: {
        const h = c.hour % 12;
        out += String(h === 0 ? 12 : h);
        break;
      }
      case Std.ZeroHour12: {
        const h = c.hour % 12;
        out += pad(h === 0 ? 12 : h, 2);
        break;
      }
      case Std.Minute:
        out += String(c.min);
        break;
      case Std.ZeroMinute:
        out += pad(c.min, 2);
        break;
      case Std.Second:
        out += String(c.sec);
        break;
      case Std.ZeroSecond:
        out += pad(c.sec, 2);
        break;
      case Std.PM:
        out += c.hour >= 12 ? 'PM' : 'AM';
        break;
      case Std.pm:
        out += c.hour >= 12 ? 'pm' : 'am';
        break;
      case Std.ISO8601TZ:
      case Std.ISO8601ColonTZ:
      case Std.ISO8601SecondsTZ:
      case Std.ISO8601ShortTZ:
      case Std.ISO8601ColonSecondsTZ:
      case Std.NumTZ:
      case Std.NumColonTZ:
      case Std.NumSecondsTz:
      case Std.NumShortTZ:
      case Std.NumColonSecondsTZ: {
        const colon = ch.std === Std.ISO8601ColonTZ || ch.std === Std.NumColonTZ || ch.std === Std.ISO8601ColonSecondsTZ || ch.std === Std.NumColonSecondsTZ;
        const secs = ch.std === Std.ISO8601SecondsTZ || ch.std === Std.NumSecondsTz || ch.std === Std.ISO8601ColonSecondsTZ || ch.std === Std.NumColonSecondsTZ;
        const short = ch.std === Std.ISO8601ShortTZ || ch.std === Std.NumShortTZ;
        const iso = ch.std >= Std.ISO8601TZ && ch.std <= Std.ISO8601ColonSecondsTZ;
        out += iso && c.offset === 0 ? 'Z' : fmtOffset(c.offset, colon, secs, short);
        break;
      }
      case Std.TZ:
        if (c.abbr !== '') out += c.abbr;
        else out += fmtOffset(c.offset, false, false, false);
        break;
      case Std.FracSecond0:
        out += fmtFrac(c.nsec, ch.n, false, ch.sep);
        break;
      case Std.FracSecond9:
        out += fmtFrac(c.nsec, ch.n, true, ch.sep);
        break;
    }
  }
  return out;
}

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339Nano = '2006-01-02T15:04:05.999999999Z07:00';

export function formatRFC3339Nano(t: Timestamp): string {
  return formatGo(t, RFC3339Nano);
}
setTimestampFormatter(formatRFC3339Nano);

/** Go's time.Time.String(). */
export function goTimeString(t: Timestamp): string {
  return formatGo(t, '2006-01-02 15:04:05.999999999 -0700 MST');
}
setTimeStringHook(goTimeString);

// ---------------------------------------------------------------------------------------------
// Go time.Parse

export class TimeParseError extends Error {}

function quoteGo(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function lookupName(names: string[], val: string): [number, string] {
  for (let i = 0; i < names.length; i++) {
    const n = names[i] as string;
    if (val.length >= n.length && val.slice(0, n.length).toLowerCase() === n.toLowerCase()) {
      return [i, val.slice(n.length)];
    }
  }
  return [-1, val];
}

function getNum(s: string, fixed: boolean): [number, string] | null {
  if (!isDigitAt(s, 0)) return null;
  if (!isDigitAt(s, 1)) {
    if (fixed) return null;
    return [Number(s[0]), s.slice(1)];
  }
  return [Number(s.slice(0, 2)), s.slice(2)];
}

function getNum3(s: string, fixed: boolean): [number, string] | null {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + Number(s[i]);
  if (i === 0 || (fixed && i !== 3)) return null;
  return [n, s.slice(i)];
}

function parseTZAbbr(value: string): number {
  if (value.length < 3) return 0;
  if (value.length >= 4 && (value.slice(0, 4) === 'ChST' || value.slice(0, 4) === 'MeST')) return 4;
  if (value.startsWith('GMT')) {
    // GMT[+-]hh
    let n = 3;
    if (value[3] === '+' || value[3] === '-') {
      let j = 4;
      while (isDigitAt(value, j)) j++;
      if (j > 4) n = j;
    }
    return n;
  }
  if (value[0] === '+' || value[0] === '-') {
    let j = 1;
    while (isDigitAt(value, j)) j++;
    return j === 3 || j === 5 ? j : 0;
  }
  let n = 0;
  while (n < value.length && value[n] >= 'A' && value[n] <= 'Z') n++;
  if (n === 3 || n === 4 || n === 5) return n;
  if (n >= 3 && value.slice(0, n).endsWith('T')) return n;
  return n >= 3 && n <= 5 ? n : 0;
}

/** time.Parse(layout, value): values without zone information are UTC. */
export function parseGo(layout: string, value: string, defaultLoc: Loc = UTC): Timestamp {
  const alayout = layout;
  const avalue = value;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let pmSet = false;
  let amSet = false;
  let zoneOffsetSec = -1;
  let zoneName = '';
  let z: Loc | null = null;
  let rangeErrString = '';

  const bad = (elem: string, val: string, msg = ''): never => {
    throw new TimeParseError(
      msg !== ''
        ? `parsing time ${quoteGo(avalue)}${msg}`
        : `parsing time ${quoteGo(avalue)} as ${quoteGo(alayout)}: cannot parse ${quoteGo(val)} as ${quoteGo(elem)}`,
    );
  };

  for (;;) {
    const ch = nextStdChunk(layout);
    const stdstr = layout.slice(ch.prefix.length, layout.length - ch.suffix.length);
    // Skip the prefix, allowing flexible whitespace like Go.
    const prefix = ch.prefix;
    if (!value.startsWith(prefix)) {
      // Go skips spaces in value/prefix in some cases; keep strict.
      bad(prefix, value);
    }
    value = value.slice(prefix.length);
    if (ch.std === Std.None) {
      if (value.length !== 0) throw new TimeParseError(`parsing time ${quoteGo(avalue)}: extra text: ${quoteGo(value)}`);
      break;
    }
    layout = ch.suffix;
    const hold = value;
    let r: [number, string] | null = null;
    switch (ch.std) {
      case Std.Year: {
        if (value.length < 2 || !isDigitAt(value, 0) || !isDigitAt(value, 1)) bad(stdstr, hold);
        const p = Number(value.slice(0, 2));
        value = value.slice(2);
        year = p >= 69 ? p + 1900 : p + 2000;
        break;
      }
      case Std.LongYear:
        if (value.length < 4 || ![0, 1, 2, 3].every((k) => isDigitAt(value, k))) bad(stdstr, hold);
        year = Number(value.slice(0, 4));
        value = value.slice(4);
        break;
      case Std.Month:
        [month, value] = lookupName(shortMonthNames, value);
        if (month < 0) bad(stdstr, hold);
        month++;
        break;
      case Std.LongMonth:
        [month, value] = lookupName(longMonthNames, value);
        if (month < 0) bad(stdstr, hold);
        month++;
        break;
      case Std.NumMonth:
      case Std.ZeroMonth:
        r = getNum(value, ch.std === Std.ZeroMonth);
        if (!r) bad(stdstr, hold);
        [month, value] = r as [number, string];
        if (month <= 0 || month > 12) rangeErrString = 'month';
        break;
      case Std.WeekDay: {
        let d: number;
        [d, value] = lookupName(shortDayNames, value);
        if (d < 0) bad(stdstr, hold);
        break;
      }
      case Std.LongWeekDay: {
        let d: number;
        [d, value] = lookupName(longDayNames, value);
        if (d < 0) bad(stdstr, hold);
        break;
      }
      case Std.Day:
      case Std.UnderDay:
      case Std.ZeroDay:
        if (ch.std === Std.UnderDay && value[0] === ' ') value = value.slice(1);
        r = getNum(value, ch.std === Std.ZeroDay);
        if (!r) bad(stdstr, hold);
        [day, value] = r as [number, string];
        break;
      case Std.UnderYearDay:
      case Std.ZeroYearDay:
        for (let k = 0; k < 2; k++) if (ch.std === Std.UnderYearDay && value[0] === ' ') value = value.slice(1);
        r = getNum3(value, ch.std === Std.ZeroYearDay);
        if (!r) bad(stdstr, hold);
        [yday, value] = r as [number, string];
        if (yday < 1 || yday > 366) rangeErrString = 'day-of-year';
        break;
      case Std.Hour:
        r = getNum(value, false);
        if (!r) bad(stdstr, hold);
        [hour, value] = r as [number, string];
        if (hour < 0 || hour > 23) rangeErrString = 'hour';
        break;
      case Std.Hour12:
      case Std.ZeroHour12:
        r = getNum(value, ch.std === Std.ZeroHour12);
        if (!r) bad(stdstr, hold);
        [hour, value] = r as [number, string];
        if (hour < 0 || hour > 12) rangeErrString = 'hour';
        break;
      case Std.Minute:
      case Std.ZeroMinute:
        r = getNum(value, ch.std === Std.ZeroMinute);
        if (!r) bad(stdstr, hold);
        [min, value] = r as [number, string];
        if (min < 0 || min >= 60) rangeErrString = 'minute';
        break;
      case Std.Second:
      case Std.ZeroSecond: {
        r = getNum(value, ch.std === Std.ZeroSecond);
        if (!r) bad(stdstr, hold);
        [sec, value] = r as [number, string];
        if (sec < 0 || sec >= 60) {
          rangeErrString = 'second';
          break;
        }
        // Fractional seconds after the seconds field are accepted even if the layout has none.
        if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && isDigitAt(value, 1)) {
          const next = nextStdChunk(layout);
          if (next.prefix === '' && (next.std === Std.FracSecond0 || next.std === Std.FracSecond9)) break;
          let n = 1;
          while (n < value.length && isDigitAt(value, n)) n++;
          nsec = parseNanos(value.slice(1, n));
          value = value.slice(n);
        }
        break;
      }
      case Std.PM:
        if (value.length < 2) bad(stdstr, hold);
        if (value.slice(0, 2) === 'PM') pmSet = true;
        else if (value.slice(0, 2) === 'AM') amSet = true;
        else bad(stdstr, hold);
        value = value.slice(2);
        break;
      case Std.pm:
        if (value.length < 2) bad(stdstr, hold);
        if (value.slice(0, 2) === 'pm') pmSet = true;
        else if (value.slice(0, 2) === 'am') amSet = true;
        else bad(stdstr, hold);
        value = value.slice(2);
        break;
      case Std.ISO8601TZ:
      case Std.ISO8601ColonTZ:
      case Std.ISO8601SecondsTZ:
      case Std.ISO8601ShortTZ:
      case Std.ISO8601ColonSecondsTZ:
      case Std.NumTZ:
      case Std.NumShortTZ:
      case Std.NumColonTZ:
      case Std.NumSecondsTz:
      case Std.NumColonSecondsTZ: {
        const iso = ch.std >= Std.ISO8601TZ && ch.std <= Std.ISO8601ColonSecondsTZ;
        if (iso && value[0] === 'Z') {
          value = value.slice(1);
          z = UTC;
          break;
        }
        let sign: string;
        let hh: string;
        let mm = '00';
        let ss = '00';
        const colon = ch.std === Std.ISO8601ColonTZ || ch.std === Std.NumColonTZ || ch.std === Std.ISO8601ColonSecondsTZ || ch.std === Std.NumColonSecondsTZ;
        const secs = ch.std === Std.ISO8601SecondsTZ || ch.std === Std.NumSecondsTz || ch.std === Std.ISO8601ColonSecondsTZ || ch.std === Std.NumColonSecondsTZ;
        const short = ch.std === Std.ISO8601ShortTZ || ch.std === Std.NumShortTZ;
        const need = short ? 3 : colon ? (secs ? 9 : 6) : secs ? 7 : 5;
        if (value.length < need) bad(stdstr, hold);
        sign = value[0] as string;
        hh = value.slice(1, 3);
        if (short) {
          value = value.slice(3);
        } else if (colon) {
          if (value[3] !== ':') bad(stdstr, hold);
          mm = value.slice(4, 6);
          if (secs) {
            if (value[6] !== ':') bad(stdstr, hold);
            ss = value.slice(7, 9);
          }
          value = value.slice(need);
        } else {
          mm = value.slice(3, 5);
          if (secs) ss = value.slice(5, 7);
          value = value.slice(need);
        }
        if ((sign !== '+' && sign !== '-') || !/^\d\d$/.test(hh) || !/^\d\d$/.test(mm) || !/^\d\d$/.test(ss)) bad(stdstr, hold);
        const off = Number(hh) * 3600 + Number(mm) * 60 + Number(ss);
        if (Number(hh) > 24 || Number(mm) > 60 || Number(ss) > 60) rangeErrString = 'time zone offset';
        zoneOffsetSec = sign === '-' ? -off : off;
        break;
      }
      case Std.TZ: {
        if (value.length >= 3 && value.slice(0, 3) === 'UTC') {
          z = UTC;
          value = value.slice(3);
          break;
        }
        const n = parseTZAbbr(value);
        if (n === 0) bad(stdstr, hold);
        zoneName = value.slice(0, n);
        value = value.slice(n);
        break;
      }
      case Std.FracSecond0: {
        const ndigit = 1 + ch.n;
        if (value.length < ndigit || (value[0] !== '.' && value[0] !== ',')) bad(stdstr, hold);
        const digits = value.slice(1, ndigit);
        if (!/^\d*$/.test(digits)) bad(stdstr, hold);
        nsec = parseNanos(digits);
        value = value.slice(ndigit);
        break;
      }
      case Std.FracSecond9: {
        if (value.length < 2 || (value[0] !== '.' && value[0] !== ',') || value[1] === undefined || !isDigitAt(value, 1)) break;
        let i = 0;
        while (i + 1 < value.length && isDigitAt(value, i + 1) && i < 9) i++;
        nsec = parseNanos(value.slice(1, 1 + i));
        value = value.slice(1 + i);
        break;
      }
    }
    if (rangeErrString !== '') {
      throw new TimeParseError(`parsing time ${quoteGo(avalue)}: ${rangeErrString} out of range`);
    }
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;

  if (yday >= 0) {
    let m = 0;
    let d = yday;
    if (month < 0) {
      m = 1;
      while (m <= 12 && d > daysIn(m, year)) {
        d -= daysIn(m, year);
        m++;
      }
      if (m > 12) throw new TimeParseError(`parsing time ${quoteGo(avalue)}: day-of-year out of range`);
      month = m;
      day = d;
    }
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) {
    throw new TimeParseError(`parsing time ${quoteGo(avalue)}: day out of range`);
  }

  if (z) return fromCivil(year, month, day, hour, min, sec, nsec, z);
  if (zoneOffsetSec !== -1) {
    const t = fromCivil(year, month, day, hour, min, sec, nsec, UTC);
    const utcSec = t.sec - zoneOffsetSec;
    const local = localLoc();
    if (zoneOffset(local, utcSec) === zoneOffsetSec && (zoneName === '' || zoneAbbr(local, utcSec) === zoneName)) {
      return new Timestamp(utcSec, nsec, local);
    }
    return new Timestamp(utcSec, nsec, fixedZone(zoneName, zoneOffsetSec));
  }
  if (zoneName !== '') {
    const t = fromCivil(year, month, day, hour, min, sec, nsec, UTC);
    const local = localLoc();
    const off = zoneOffset(local, t.sec);
    if (zoneAbbr(local, t.sec - off) === zoneName) return new Timestamp(t.sec - off, nsec, local);
    if (zoneName.length > 3 && zoneName.startsWith('GMT')) {
      const h = Number(zoneName.slice(3));
      return new Timestamp(t.sec - h * 3600, nsec, fixedZone(zoneName, h * 3600));
    }
    return new Timestamp(t.sec, nsec, fixedZone(zoneName, 0));
  }
  return fromCivil(year, month, day, hour, min, sec, nsec, defaultLoc);
}

function parseNanos(digits: string): number {
  const d = (digits + '000000000').slice(0, 9);
  return Number(d);
}

/** RFC 3339 parse as Go's time.Parse(time.RFC3339Nano, s). */
export function parseRFC3339(s: string): Timestamp {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(s);
  if (!m) return parseGo(RFC3339Nano, s);
  const [, y, mo, d, h, mi, se, frac, zz, sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  const year = Number(y);
  if (month < 1 || month > 12) throw new TimeParseError(`parsing time ${quoteGo(s)}: month out of range`);
  if (day < 1 || day > daysIn(month, year)) throw new TimeParseError(`parsing time ${quoteGo(s)}: day out of range`);
  if (Number(h) > 23) throw new TimeParseError(`parsing time ${quoteGo(s)}: hour out of range`);
  if (Number(mi) > 59) throw new TimeParseError(`parsing time ${quoteGo(s)}: minute out of range`);
  if (Number(se) > 59) throw new TimeParseError(`parsing time ${quoteGo(s)}: second out of range`);
  const nsec = frac ? parseNanos(frac.slice(0, 9)) : 0;
  if (zz) return fromCivil(year, month, day, Number(h), Number(mi), Number(se), nsec, UTC);
  const off = (Number(oh) * 3600 + Number(om) * 60) * (sign === '-' ? -1 : 1);
  const t = fromCivil(year, month, day, Number(h), Number(mi), Number(se), nsec, UTC);
  const utcSec = t.sec - off;
  const local = localLoc();
  if (zoneOffset(local, utcSec) === off) return new Timestamp(utcSec, nsec, local);
  return new Timestamp(utcSec, nsec, fixedZone('', off));
}

// ---------------------------------------------------------------------------------------------
// strftime / strptime

function isoWeek(c: Civil): { year: number; week: number } {
  // ISO 8601: weeks start Monday; week 1 contains the year's first Thursday.
  const wdayMon = (c.wday + 6) % 7; // 0 = Monday
  const thursdayYday = c.yday - wdayMon + 3;
  let year = c.year;
  let yd = thursdayYday;
  if (yd < 1) {
    year--;
    yd += isLeap(year) ? 366 : 365;
  } else if (yd > (isLeap(year) ? 366 : 365)) {
    yd -= isLeap(year) ? 366 : 365;
    year++;
  }
  return { year, week: Math.floor((yd - 1) / 7) + 1 };
}

export function strftime(t: Timestamp, format: string): string {
  const c = civil(t);
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i];
    if (ch !== '%' || i === format.length - 1) {
      out += ch;
      continue;
    }
    let spec = format[++i] as string;
    let padChar: string | null = null;
    if (spec === '-' || spec === '_' || spec === '0') {
      padChar = spec === '-' ? '' : spec === '_' ? ' ' : '0';
      spec = format[++i] ?? '';
    }
    const num = (n: number, w: number, def = '0'): string => {
      const p = padChar === null ? def : padChar;
      return p === '' ? String(n) : pad(n, w, p);
    };
    const h12 = c.hour % 12 === 0 ? 12 : c.hour % 12;
    switch (spec) {
      case 'a':
        out += shortDayNames[c.wday];
        break;
      case 'A':
        out += longDayNames[c.wday];
        break;
      case 'b':
      case 'h':
        out += shortMonthNames[c.month - 1];
        break;
      case 'B':
        out += longMonthNames[c.month - 1];
        break;
      case 'c':
        out += strftime(t, '%a %b %e %H:%M:%S %Y');
        break;
      case 'C':
        out += num(Math.floor(c.year / 100), 2);
        break;
      case 'd':
        out += num(c.day, 2);
        break;
      case 'D':
        out += strftime(t, '%m/%d/%y');
        break;
      case 'e':
        out += num(c.day, 2, ' ');
        break;
      case 'f':
        out += pad(Math.floor(c.nsec / 1000), 6);
        break;
      case 'F':
        out += strftime(t, '%Y-%m-%d');
        break;
      case 'g':
        out += num(isoWeek(c).year % 100, 2);
        break;
      case 'G':
        out += num(isoWeek(c).year, 4);
        break;
      case 'H':
        out += num(c.hour, 2);
        break;
      case 'I':
        out += num(h12, 2);
        break;
      case 'j':
        out += num(c.yday, 3);
        break;
      case 'k':
        out += num(c.hour, 2, ' ');
        break;
      case 'l':
        out += num(h12, 2, ' ');
        break;
      case 'L':
        out += pad(Math.floor(c.nsec / 1e6), 3);
        break;
      case 'm':
        out += num(c.month, 2);
        break;
      case 'M':
        out += num(c.min, 2);
        break;
      case 'n':
        out += '\n';
        break;
      case 'N':
        out += pad(c.nsec, 9);
        break;
      case 'p':
        out += c.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'P':
        out += c.hour >= 12 ? 'pm' : 'am';
        break;
      case 'r':
        out += strftime(t, '%I:%M:%S %p');
        break;
      case 'R':
        out += strftime(t, '%H:%M');
        break;
      case 's':
        out += String(t.sec);
        break;
      case 'S':
        out += num(c.sec, 2);
        break;
      case 't':
        out += '\t';
        break;
      case 'T':
        out += strftime(t, '%H:%M:%S');
        break;
      case 'u':
        out += String(c.wday === 0 ? 7 : c.wday);
        break;
      case 'U':
        out += num(Math.floor((c.yday - 1 - c.wday + 7) / 7), 2);
        break;
      case 'V':
        out += num(isoWeek(c).week, 2);
        break;
      case 'w':
        out += String(c.wday);
        break;
      case 'W':
        out += num(Math.floor((c.yday - 1 - ((c.wday + 6) % 7) + 7) / 7), 2);
        break;
      case 'x':
        out += strftime(t, '%m/%d/%y');
        break;
      case 'X':
        out += strftime(t, '%H:%M:%S');
        break;
      case 'y':
        out += num(((c.year % 100) + 100) % 100, 2);
        break;
      case 'Y':
        out += num(c.year, 4);
        break;
      case 'z':
        out += fmtOffset(c.offset, false, false, false);
        break;
      case ':':
        if (format[i + 1] === 'z') {
          i++;
          out += fmtOffset(c.offset, true, false, false);
        } else out += '%:';
        break;
      case 'Z':
        out += c.abbr !== '' ? c.abbr : fmtOffset(c.offset, false, false, false);
        break;
      case '%':
        out += '%';
        break;
      default:
        out += '%' + spec;
    }
  }
  return out;
}

export function strptime(value: string, format: string): Timestamp {
  let year = 1900;
  let month = 1;
  let day = 1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let pm = -1;
  let offset: number | null = null;
  let unix: number | null = null;
  let yday = -1;
  let j = 0;
  const fail = (): never => {
    throw new TimeParseError(`failed to parse ${quoteGo(value)} with ${quoteGo(format)}`);
  };
  const readNum = (maxDigits: number, allowSpace = false): number => {
    if (allowSpace && value[j] === ' ') j++;
    let n = 0;
    let k = 0;
    let neg = false;
    if (value[j] === '-' && maxDigits > 4) {
      neg = true;
      j++;
    }
    while (k < maxDigits && isDigitAt(value, j)) {
      n = n * 10 + Number(value[j]);
      j++;
      k++;
    }
    if (k === 0) fail();
    return neg ? -n : n;
  };
  const readName = (names: string[]): number => {
    const [idx, rest] = lookupName(names, value.slice(j));
    if (idx < 0) fail();
    j = value.length - rest.length;
    return idx;
  };
  for (let i = 0; i < format.length; i++) {
    const ch = format[i];
    if (ch !== '%') {
      if (ch === ' ') {
        while (value[j] === ' ') j++;
        continue;
      }
      if (value[j] !== ch) fail();
      j++;
      continue;
    }
    const spec = format[++i];
    switch (spec) {
      case 'Y':
        year = readNum(4);
        break;
      case 'y': {
        const y = readNum(2);
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case 'C':
        year = readNum(2) * 100 + (year % 100);
        break;
      case 'm':
        month = readNum(2);
        break;
      case 'd':
        day = readNum(2);
        break;
      case 'e':
        day = readNum(2, true);
        break;
      case 'j':
        yday = readNum(3);
        break;
      case 'H':
        hour = readNum(2);
        break;
      case 'k':
        hour = readNum(2, true);
        break;
      case 'I':
        hour = readNum(2);
        break;
      case 'l':
        hour = readNum(2, true);
        break;
      case 'M':
        min = readNum(2);
        break;
      case 'S':
        sec = readNum(2);
        break;
      case 'f': {
        const start = j;
        while (isDigitAt(value, j) && j - start < 9) j++;
        if (j === start) fail();
        nsec = parseNanos(value.slice(start, j));
        break;
      }
      case 'L': {
        const start = j;
        while (isDigitAt(value, j) && j - start < 3) j++;
        if (j === start) fail();
        nsec = parseNanos(value.slice(start, j));
        break;
      }
      case 'b':
      case 'h':
        month = readName(shortMonthNames) + 1;
        break;
      case 'B': {
        const [idx, rest] = lookupName(longMonthNames, value.slice(j));
        if (idx >= 0) {
          month = idx + 1;
          j = value.length - rest.length;
        } else month = readName(shortMonthNames) + 1;
        break;
      }
      case 'a':
        readName(shortDayNames);
        break;
      case 'A': {
        const [idx, rest] = lookupName(longDayNames, value.slice(j));
        if (idx >= 0) j = value.length - rest.length;
        else readName(shortDayNames);
        break;
      }
      case 'p':
      case 'P': {
        const s = value.slice(j, j + 2).toUpperCase();
        if (s === 'AM') pm = 0;
        else if (s === 'PM') pm = 1;
        else fail();
        j += 2;
        break;
      }
      case 'z': {
        if (value[j] === 'Z') {
          offset = 0;
          j++;
          break;
        }
        const m = /^([+-])(\d{2}):?(\d{2})?/.exec(value.slice(j));
        if (!m) fail();
        const mm = m as RegExpExecArray;
        offset = (Number(mm[2]) * 3600 + Number(mm[3] ?? 0) * 60) * (mm[1] === '-' ? -1 : 1);
        j += mm[0].length;
        break;
      }
      case 'Z': {
        const m = /^[A-Za-z]+/.exec(value.slice(j));
        if (!m) fail();
        const name = (m as RegExpExecArray)[0];
        j += name.length;
        if (name === 'UTC' || name === 'GMT' || name === 'Z') offset = 0;
        break;
      }
      case 's': {
        const m = /^-?\d+/.exec(value.slice(j));
        if (!m) fail();
        unix = Number((m as RegExpExecArray)[0]);
        j += (m as RegExpExecArray)[0].length;
        break;
      }
      case 'T':
        hour = readNum(2);
        if (value[j++] !== ':') fail();
        min = readNum(2);
        if (value[j++] !== ':') fail();
        sec = readNum(2);
        break;
      case 'R':
        hour = readNum(2);
        if (value[j++] !== ':') fail();
        min = readNum(2);
        break;
      case 'D':
      case 'x': {
        month = readNum(2);
        if (value[j++] !== '/') fail();
        day = readNum(2);
        if (value[j++] !== '/') fail();
        const y = readNum(2);
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case 'F':
        year = readNum(4);
        if (value[j++] !== '-') fail();
        month = readNum(2);
        if (value[j++] !== '-') fail();
        day = readNum(2);
        break;
      case 'n':
      case 't':
        while (value[j] === ' ' || value[j] === '\n' || value[j] === '\t') j++;
        break;
      case '%':
        if (value[j++] !== '%') fail();
        break;
      default:
        fail();
    }
  }
  if (j !== value.length) fail();
  if (unix !== null) return new Timestamp(unix, 0, UTC);
  if (pm === 1 && hour < 12) hour += 12;
  if (pm === 0 && hour === 12) hour = 0;
  if (yday > 0) {
    const t = fromCivil(year, 1, yday, hour, min, sec, nsec, UTC);
    return offset === null ? t : new Timestamp(t.sec - offset, nsec, offset === 0 ? UTC : fixedZone('', offset));
  }
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 60) fail();
  const t = fromCivil(year, month, day, hour, min, sec, nsec, UTC);
  if (offset === null) return t;
  return new Timestamp(t.sec - offset, nsec, offset === 0 ? UTC : fixedZone('', offset));
}

// ---------------------------------------------------------------------------------------------
// Durations

const unitNs: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n,
  'μs': 1000n,
  ms: 1000000n,
  s: 1000000000n,
  m: 60000000000n,
  h: 3600000000000n,
};

/** time.ParseDuration: returns nanoseconds. */
export function parseGoDuration(s: string): bigint {
  const orig = s;
  const err = (): never => {
    throw new Error(`time: invalid duration ${quoteGo(orig)}`);
  };
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') err();
  let total = 0;
  let totalBig = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) err();
    const mm = m as RegExpExecArray;
    s = s.slice(mm[0].length);
    const u = /^[^0-9.]+/.exec(s);
    if (!u) throw new Error(`time: missing unit in duration ${quoteGo(orig)}`);
    const unitStr = (u as RegExpExecArray)[0];
    const unit = unitNs[unitStr];
    if (unit === undefined) throw new Error(`time: unknown unit ${quoteGo(unitStr)} in duration ${quoteGo(orig)}`);
    s = s.slice(unitStr.length);
    const whole = BigInt(mm[1] === '' ? '0' : (mm[1] as string));
    totalBig += whole * unit;
    if (mm[2]) {
      const frac = mm[2];
      const scaled = Number('0.' + frac) * Number(unit);
      total += scaled;
    }
  }
  const res = totalBig + BigInt(Math.round(total));
  return neg ? -res : res;
}

/** ISO 8601 duration (P[n]Y[n]M[n]W[n]DT[n]H[n]M[n]S) in nanoseconds, with Benthos' conventions. */
export function parseISO8601Duration(s: string): bigint {
  const m = /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/.exec(s);
  if (!m || s === 'P' || s.endsWith('T')) throw new Error(`failed to parse ISO 8601 duration: ${s}`);
  const num = (x: string | undefined): number => (x === undefined ? 0 : Number(x.replace(',', '.')));
  const secs =
    num(m[1]) * 31556952 +
    num(m[2]) * 2629746 +
    num(m[3]) * 7 * 86400 +
    num(m[4]) * 86400 +
    num(m[5]) * 3600 +
    num(m[6]) * 60;
  const s2 = num(m[7]);
  return BigInt(Math.round(secs * 10)) * 100000000n + BigInt(Math.trunc(s2 * 10)) * 100000000n;
}

export interface ISOPeriod {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export function parseISOPeriod(s: string): ISOPeriod {
  const m = /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/.exec(s);
  if (!m || s === 'P' || s.endsWith('T')) throw new Error(`failed to parse ISO 8601 duration: ${s}`);
  const num = (x: string | undefined): number => (x === undefined ? 0 : Number(x.replace(',', '.')));
  return {
    years: num(m[1]),
    months: num(m[2]),
    weeks: num(m[3]),
    days: num(m[4]),
    hours: num(m[5]),
    minutes: num(m[6]),
    seconds: num(m[7]),
  };
}

/** Adds (sign=1) or subtracts (sign=-1) an ISO 8601 period, calendar-aware for Y/M/W/D. */
export function addISOPeriod(t: Timestamp, p: ISOPeriod, sign: 1 | -1): Timestamp {
  const c = civil(t);
  const moved = fromCivil(
    c.year + sign * Math.trunc(p.years),
    c.month + sign * Math.trunc(p.months),
    c.day + sign * (Math.trunc(p.weeks) * 7 + Math.trunc(p.days)),
    c.hour,
    c.min,
    c.sec,
    c.nsec,
    t.loc,
  );
  const fracSecs =
    (p.years - Math.trunc(p.years)) * 365 * 86400 +
    (p.months - Math.trunc(p.months)) * 30 * 86400 +
    (p.weeks - Math.trunc(p.weeks)) * 7 * 86400 +
    (p.days - Math.trunc(p.days)) * 86400 +
    p.hours * 3600 +
    p.minutes * 60 +
    p.seconds;
  const ns = moved.unixNano() + BigInt(sign) * BigInt(Math.round(fracSecs * 1e9));
  return Timestamp.fromUnixNano(ns, t.loc);
}

/** Go's time.Duration.String(). */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1000000000n) {
    let unit: string;
    let div: bigint;
    if (u < 1000n) return (neg ? '-' : '') + u.toString() + 'ns';
    if (u < 1000000n) {
      unit = 'µs';
      div = 1000n;
    } else {
      unit = 'ms';
      div = 1000000n;
    }
    out = fracStr(u, div) + unit;
  } else {
    const h = u / 3600000000000n;
    u -= h * 3600000000000n;
    const m = u / 60000000000n;
    u -= m * 60000000000n;
    out = fracStr(u, 1000000000n) + 's';
    if (h > 0n) out = `${h}h${m}m` + out;
    else if (m > 0n) out = `${m}m` + out;
  }
  return (neg ? '-' : '') + out;
}

function fracStr(v: bigint, div: bigint): string {
  const whole = v / div;
  const rem = v % div;
  if (rem === 0n) return whole.toString();
  const digits = div.toString().length - 1;
  const frac = rem.toString().padStart(digits, '0').replace(/0+$/, '');
  return `${whole}.${frac}`;
}
