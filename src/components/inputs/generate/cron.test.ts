import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseCron, CronError } from './cron.js';

/** The first `n` fire times after `from`, as ISO strings. */
function fires(expr: string, from: string, n = 1): string[] {
  const c = parseCron(expr);
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < n; i++) {
    t = c.next(t);
    out.push(t.toISOString());
  }
  return out;
}
const z = (s: string) => `${s}.000Z`;

describe('cron fields', () => {
  test('every second, strictly after, truncating milliseconds', () => {
    assert.deepEqual(fires('* * * * * *', '2024-01-01T00:00:00.500Z', 3), [z('2024-01-01T00:00:01'), z('2024-01-01T00:00:02'), z('2024-01-01T00:00:03')]);
    assert.deepEqual(fires('* * * * * *', '2024-01-01T00:00:00.000Z'), [z('2024-01-01T00:00:01')]);
  });

  test('5 fields: seconds are 0', () => {
    assert.deepEqual(fires('* * * * *', '2024-01-01T00:00:00Z', 2), [z('2024-01-01T00:01:00'), z('2024-01-01T00:02:00')]);
    assert.deepEqual(fires('*/5 * * * *', '2024-01-01T00:03:10Z', 3), [z('2024-01-01T00:05:00'), z('2024-01-01T00:10:00'), z('2024-01-01T00:15:00')]);
    assert.deepEqual(fires('*/5 * * * *', '2024-01-01T00:05:00Z'), [z('2024-01-01T00:10:00')]);
  });

  test('6 fields: lists and steps, as in the Benthos example', () => {
    assert.deepEqual(fires('0,30 */2 * * * *', '2024-01-01T00:00:00Z', 4), [
      z('2024-01-01T00:00:30'),
      z('2024-01-01T00:02:00'),
      z('2024-01-01T00:02:30'),
      z('2024-01-01T00:04:00'),
    ]);
  });

  test('a single value rolls over to the next hour, day, month and year', () => {
    assert.deepEqual(fires('15 * * * *', '2024-01-01T00:15:00Z', 2), [z('2024-01-01T01:15:00'), z('2024-01-01T02:15:00')]);
    assert.deepEqual(fires('0 0 * * *', '2024-12-31T23:59:59Z', 2), [z('2025-01-01T00:00:00'), z('2025-01-02T00:00:00')]);
    assert.deepEqual(fires('59 59 23 31 12 *', '2024-06-01T00:00:00Z', 2), [z('2024-12-31T23:59:59'), z('2025-12-31T23:59:59')]);
  });

  test('ranges', () => {
    assert.deepEqual(fires('10-12 * * * *', '2024-01-01T00:11:00Z', 3), [z('2024-01-01T00:12:00'), z('2024-01-01T01:10:00'), z('2024-01-01T01:11:00')]);
  });

  test('stepped ranges a-b/n and a/n', () => {
    assert.deepEqual(fires('0 1-10/3 * * *', '2024-01-01T00:00:00Z', 5), [
      z('2024-01-01T01:00:00'),
      z('2024-01-01T04:00:00'),
      z('2024-01-01T07:00:00'),
      z('2024-01-01T10:00:00'),
      z('2024-01-02T01:00:00'),
    ]);
    assert.deepEqual(fires('0 5/20 * * * *', '2024-01-01T00:00:00Z', 4), [z('2024-01-01T00:05:00'), z('2024-01-01T00:25:00'), z('2024-01-01T00:45:00'), z('2024-01-01T01:05:00')]);
    assert.deepEqual(fires('0 0 1 */3 *', '2024-01-15T00:00:00Z', 3), [z('2024-04-01T00:00:00'), z('2024-07-01T00:00:00'), z('2024-10-01T00:00:00')]);
  });

  test('lists mixing values, ranges and steps', () => {
    assert.deepEqual(fires('0 1,3-4,20/2 * * *', '2024-01-01T00:00:00Z', 7), [
      z('2024-01-01T01:00:00'),
      z('2024-01-01T03:00:00'),
      z('2024-01-01T04:00:00'),
      z('2024-01-01T20:00:00'),
      z('2024-01-01T22:00:00'),
      z('2024-01-02T01:00:00'),
      z('2024-01-02T03:00:00'),
    ]);
  });

  test('month and day names, any case, in lists and ranges', () => {
    // 2024-01-31 is a Wednesday; February is not allowed; 2024-03-04 is the first Monday of March.
    assert.deepEqual(fires('0 0 * JAN,MAR MON-WED', '2024-01-31T00:00:00Z', 3), [z('2024-03-04T00:00:00'), z('2024-03-05T00:00:00'), z('2024-03-06T00:00:00')]);
    assert.deepEqual(fires('0 0 * jan sun', '2024-01-01T00:00:00Z', 2), [z('2024-01-07T00:00:00'), z('2024-01-14T00:00:00')]);
    assert.deepEqual(fires('0 0 1 Jun-Aug *', '2024-01-01T00:00:00Z', 4), [z('2024-06-01T00:00:00'), z('2024-07-01T00:00:00'), z('2024-08-01T00:00:00'), z('2025-06-01T00:00:00')]);
  });

  test('? is *, and day of week 7 is Sunday', () => {
    assert.deepEqual(fires('0 0 ? * 1', '2024-01-01T00:00:00Z', 2), fires('0 0 * * MON', '2024-01-01T00:00:00Z', 2));
    assert.deepEqual(fires('0 0 * * 7', '2024-01-01T00:00:00Z', 2), [z('2024-01-07T00:00:00'), z('2024-01-14T00:00:00')]);
    assert.deepEqual(fires('0 0 * * 5-7', '2024-01-01T00:00:00Z', 4), [z('2024-01-05T00:00:00'), z('2024-01-06T00:00:00'), z('2024-01-07T00:00:00'), z('2024-01-12T00:00:00')]);
  });
});

describe('day of month and day of week', () => {
  test('both restricted: either one matching fires (classic cron OR)', () => {
    // January 2024: Fridays are 5, 12, 19, 26; the 13th is a Saturday.
    assert.deepEqual(fires('0 0 13 * FRI', '2024-01-01T00:00:00Z', 5), [
      z('2024-01-05T00:00:00'),
      z('2024-01-12T00:00:00'),
      z('2024-01-13T00:00:00'),
      z('2024-01-19T00:00:00'),
      z('2024-01-26T00:00:00'),
    ]);
  });

  test('a stepped day of week counts as restricted', () => {
    // The 1st, or Sunday/Tuesday/Thursday/Saturday: 2024-01-01 is a Monday.
    assert.deepEqual(fires('0 0 1 * */2', '2023-12-31T12:00:00Z', 4), [z('2024-01-01T00:00:00'), z('2024-01-02T00:00:00'), z('2024-01-04T00:00:00'), z('2024-01-06T00:00:00')]);
  });

  test('one of them * or ?: only the other counts', () => {
    assert.deepEqual(fires('0 0 13 * *', '2024-01-01T00:00:00Z', 2), [z('2024-01-13T00:00:00'), z('2024-02-13T00:00:00')]);
    assert.deepEqual(fires('0 0 13 * ?', '2024-01-01T00:00:00Z', 2), [z('2024-01-13T00:00:00'), z('2024-02-13T00:00:00')]);
    assert.deepEqual(fires('0 0 ? * FRI', '2024-01-01T00:00:00Z', 2), [z('2024-01-05T00:00:00'), z('2024-01-12T00:00:00')]);
    assert.deepEqual(fires('0 0 * * FRI', '2024-01-01T00:00:00Z', 2), [z('2024-01-05T00:00:00'), z('2024-01-12T00:00:00')]);
  });

  test('Friday the 13th needs both, which plain cron cannot say: OR gives every Friday', () => {
    const f = fires('0 0 13 * 5', '2024-09-01T00:00:00Z', 3);
    assert.ok(f.includes(z('2024-09-06T00:00:00')), f.join());
  });
});

describe('calendar edges', () => {
  test('Feb 29 only in leap years (2100 is not one)', () => {
    assert.deepEqual(fires('0 0 29 2 *', '2024-03-01T00:00:00Z', 2), [z('2028-02-29T00:00:00'), z('2032-02-29T00:00:00')]);
    assert.deepEqual(fires('0 0 29 2 *', '2096-03-01T00:00:00Z'), [z('2104-02-29T00:00:00')]);
    assert.deepEqual(fires('0 0 29 FEB *', '2024-02-28T12:00:00Z'), [z('2024-02-29T00:00:00')]);
  });

  test('day 31 skips shorter months', () => {
    assert.deepEqual(fires('0 0 31 * *', '2024-01-31T00:00:00Z', 4), [z('2024-03-31T00:00:00'), z('2024-05-31T00:00:00'), z('2024-07-31T00:00:00'), z('2024-08-31T00:00:00')]);
    assert.deepEqual(fires('0 0 30,31 * *', '2024-02-01T00:00:00Z', 3), [z('2024-03-30T00:00:00'), z('2024-03-31T00:00:00'), z('2024-04-30T00:00:00')]);
  });

  test('end of month and year rollover at the last second', () => {
    assert.deepEqual(fires('* * * * * *', '2024-02-29T23:59:59Z'), [z('2024-03-01T00:00:00')]);
    assert.deepEqual(fires('0 0 0 1 * *', '2024-12-15T00:00:00Z'), [z('2025-01-01T00:00:00')]);
  });
});

describe('descriptors', () => {
  const from = '2024-06-12T10:20:30Z'; // a Wednesday
  test('each descriptor', () => {
    assert.deepEqual(fires('@yearly', from), [z('2025-01-01T00:00:00')]);
    assert.deepEqual(fires('@annually', from), [z('2025-01-01T00:00:00')]);
    assert.deepEqual(fires('@monthly', from), [z('2024-07-01T00:00:00')]);
    assert.deepEqual(fires('@weekly', from), [z('2024-06-16T00:00:00')]);
    assert.deepEqual(fires('@daily', from), [z('2024-06-13T00:00:00')]);
    assert.deepEqual(fires('@midnight', from), [z('2024-06-13T00:00:00')]);
    assert.deepEqual(fires('@hourly', from, 2), [z('2024-06-12T11:00:00'), z('2024-06-12T12:00:00')]);
    assert.deepEqual(fires('@DAILY', from), [z('2024-06-13T00:00:00')]);
  });
  test('with a time zone', () => {
    assert.deepEqual(fires('TZ=Europe/Paris @daily', from), [z('2024-06-12T22:00:00')]);
  });
});

describe('time zones', () => {
  test('UTC unless TZ= is given', () => {
    assert.equal(parseCron('0 9 * * *').timeZone, 'UTC');
    assert.equal(parseCron('TZ=America/New_York 0 9 * * *').timeZone, 'America/New_York');
    assert.equal(parseCron('CRON_TZ=Asia/Tokyo 0 9 * * *').timeZone, 'Asia/Tokyo');
  });

  test('wall-clock fields in the zone, winter and summer', () => {
    assert.deepEqual(fires('TZ=America/New_York 0 9 * * *', '2024-01-15T00:00:00Z', 2), [z('2024-01-15T14:00:00'), z('2024-01-16T14:00:00')]);
    assert.deepEqual(fires('TZ=America/New_York 0 9 * * *', '2024-07-15T00:00:00Z'), [z('2024-07-15T13:00:00')]);
    assert.deepEqual(fires('TZ=Asia/Kolkata 0 0 * * *', '2024-01-15T00:00:00Z'), [z('2024-01-15T18:30:00')]);
    assert.deepEqual(fires('CRON_TZ=Asia/Tokyo 0 0 1 1 *', '2024-06-01T00:00:00Z'), [z('2024-12-31T15:00:00')]);
  });

  test('the day of week is the one in the zone', () => {
    // 2024-01-07 is a Sunday; 00:30 Monday in Tokyo is 15:30 UTC on Sunday.
    assert.deepEqual(fires('TZ=Asia/Tokyo 30 0 * * MON', '2024-01-06T00:00:00Z'), [z('2024-01-07T15:30:00')]);
  });

  test('the Benthos example TZ=Europe/London 30 3-6,20-23 * * *', () => {
    assert.deepEqual(fires('TZ=Europe/London 30 3-6,20-23 * * *', '2024-07-01T00:00:00Z', 5), [
      z('2024-07-01T02:30:00'),
      z('2024-07-01T03:30:00'),
      z('2024-07-01T04:30:00'),
      z('2024-07-01T05:30:00'),
      z('2024-07-01T19:30:00'),
    ]);
  });

  // Europe/London 2024: clocks go forward at 01:00 UTC on 31 March (01:00 GMT → 02:00 BST) and
  // back at 01:00 UTC on 27 October (02:00 BST → 01:00 GMT).
  test('DST gap: a daily time that does not exist fires when the gap ends, once', () => {
    assert.deepEqual(fires('TZ=Europe/London 30 1 * * *', '2024-03-30T12:00:00Z', 2), [z('2024-03-31T01:00:00'), z('2024-04-01T00:30:00')]);
    // Two times in the gap collapse into one firing.
    assert.deepEqual(fires('TZ=Europe/London 0,30 1 * * *', '2024-03-30T12:00:00Z', 3), [z('2024-03-31T01:00:00'), z('2024-04-01T00:00:00'), z('2024-04-01T00:30:00')]);
    // America/New_York: 2024-03-10 02:00 EST → 03:00 EDT at 07:00 UTC.
    assert.deepEqual(fires('TZ=America/New_York 30 2 * * *', '2024-03-09T12:00:00Z', 2), [z('2024-03-10T07:00:00'), z('2024-03-11T06:30:00')]);
  });

  test('DST gap: an hourly schedule keeps the real clock (the missing hour is skipped)', () => {
    assert.deepEqual(fires('TZ=Europe/London 0 * * * *', '2024-03-30T23:30:00Z', 3), [z('2024-03-31T00:00:00'), z('2024-03-31T01:00:00'), z('2024-03-31T02:00:00')]);
    assert.deepEqual(fires('TZ=Europe/London 30 * * * *', '2024-03-31T00:00:00Z', 2), [z('2024-03-31T00:30:00'), z('2024-03-31T01:30:00')]);
  });

  test('DST overlap: a daily time fires in the first pass only', () => {
    assert.deepEqual(fires('TZ=Europe/London 30 1 * * *', '2024-10-26T12:00:00Z', 2), [z('2024-10-27T00:30:00'), z('2024-10-28T01:30:00')]);
    // Starting inside the second pass (01:10 GMT) skips the rest of it.
    assert.deepEqual(fires('TZ=Europe/London 30 1 * * *', '2024-10-27T01:10:00Z'), [z('2024-10-28T01:30:00')]);
    assert.deepEqual(fires('TZ=Europe/London */20 1 * * *', '2024-10-26T23:59:00Z', 4), [
      z('2024-10-27T00:00:00'),
      z('2024-10-27T00:20:00'),
      z('2024-10-27T00:40:00'),
      z('2024-10-28T01:00:00'),
    ]);
    // America/New_York: 2024-11-03 02:00 EDT → 01:00 EST at 06:00 UTC.
    assert.deepEqual(fires('TZ=America/New_York 30 1 * * *', '2024-11-02T12:00:00Z', 2), [z('2024-11-03T05:30:00'), z('2024-11-04T06:30:00')]);
  });

  test('DST overlap: an hourly schedule fires in both passes', () => {
    assert.deepEqual(fires('TZ=Europe/London 30 * * * *', '2024-10-26T23:00:00Z', 4), [
      z('2024-10-26T23:30:00'),
      z('2024-10-27T00:30:00'),
      z('2024-10-27T01:30:00'),
      z('2024-10-27T02:30:00'),
    ]);
  });

  test('per-second schedule runs straight through both DST changes', () => {
    for (const at of ['2024-03-31T00:59:58Z', '2024-10-27T00:59:58Z', '2024-10-27T01:59:58Z']) {
      const f = fires('TZ=Europe/London * * * * * *', at, 4);
      const start = Date.parse(at);
      assert.deepEqual(f, [1, 2, 3, 4].map((i) => new Date(start + i * 1000).toISOString()), at);
    }
  });
});

describe('a year across DST changes', () => {
  test('an hourly schedule in a zone fires exactly every hour all year', () => {
    for (const tz of ['Europe/London', 'America/New_York', 'Australia/Sydney']) {
      const c = parseCron(`TZ=${tz} 30 * * * *`);
      let t = c.next(new Date('2024-01-01T00:00:00Z')).getTime();
      for (let i = 0; i < 366 * 24; i++) {
        const n = c.next(new Date(t)).getTime();
        assert.equal(n - t, 3_600_000, `${tz} after ${new Date(t).toISOString()}`);
        t = n;
      }
    }
  });

  test('a daily schedule in a zone fires once per local day', () => {
    const c = parseCron('TZ=Europe/London 0 30 1 * * *');
    const days = new Set<string>();
    let t = new Date('2024-01-01T00:00:00Z');
    for (let i = 0; i < 366; i++) {
      t = c.next(t);
      const local = t.toLocaleString('en-GB', { timeZone: 'Europe/London', hourCycle: 'h23' });
      days.add(local.slice(0, 10));
      // 01:30 local, except on the spring-forward day, when 01:30 doesn't exist (02:00 BST).
      assert.ok(local.endsWith('01:30:00') || local === '31/03/2024, 02:00:00', local);
    }
    assert.equal(days.size, 366);
  });
});

describe('matches a brute-force scan', () => {
  /** Minimal independent matcher: numbers, ranges, steps and * only. */
  function expand(field: string, min: number, max: number): Set<number> {
    const out = new Set<number>();
    for (const item of field.split(',')) {
      const [range, step = '1'] = item.split('/') as [string, string?];
      const [a, b] = range === '*' ? [min, max] : range.includes('-') ? range.split('-').map(Number) : [Number(range), item.includes('/') ? max : Number(range)];
      for (let v = a!; v <= b!; v += Number(step)) out.add(v);
    }
    return out;
  }
  function scan(expr: string, from: number): number {
    const [sec, min, hour, dom, mon, dow] = expr.split(' ') as [string, string, string, string, string, string];
    const S = expand(sec, 0, 59), M = expand(min, 0, 59), H = expand(hour, 0, 23), D = expand(dom, 1, 31), MO = expand(mon, 1, 12), W = expand(dow, 0, 6);
    const domStar = dom === '*', dowStar = dow === '*';
    for (let t = Math.floor(from / 1000) * 1000 + 1000; ; t += 1000) {
      const d = new Date(t);
      if (!S.has(d.getUTCSeconds()) || !M.has(d.getUTCMinutes()) || !H.has(d.getUTCHours()) || !MO.has(d.getUTCMonth() + 1)) {
        // jump to the next minute when seconds can't matter for speed
        if (!M.has(d.getUTCMinutes()) || !H.has(d.getUTCHours()) || !MO.has(d.getUTCMonth() + 1)) t = Math.floor(t / 60000) * 60000 + 59000;
        continue;
      }
      const dm = D.has(d.getUTCDate()), wm = W.has(d.getUTCDay());
      if (domStar || dowStar ? dm && wm : dm || wm) return t;
    }
  }
  const exprs = ['*/7 * * * * *', '0 */13 2-5 * * *', '30 0 0 * * 1-5', '0 0 12 1,15 * 3', '0 45 23 28-31 * *', '15 5/10 * * 2,4 *', '0 0 0 1-3 6 *'];
  for (const expr of exprs) {
    test(expr, () => {
      const c = parseCron(expr);
      let seed = 12345;
      for (let i = 0; i < 15; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const from = Date.UTC(2023, 0, 1) + (seed % (2 * 365 * 86400)) * 1000 + (seed % 1000);
        assert.equal(c.next(new Date(from)).getTime(), scan(expr, from), `${expr} after ${new Date(from).toISOString()}`);
      }
    });
  }
});

describe('errors name the field and value', () => {
  const cases: [string, RegExp][] = [
    ['', /no schedule given/],
    ['* * * *', /expected 5 fields .* or 6 .*got 4/],
    ['* * * * * * *', /got 7/],
    ['60 * * * *', /minute: value 60 in "60" is out of range 0-59/],
    ['60 * * * * *', /second: value 60 .*out of range 0-59/],
    ['* 24 * * *', /hour: value 24 .*out of range 0-23/],
    ['* * 0 * *', /day-of-month: value 0 .*out of range 1-31/],
    ['* * 32 * *', /day-of-month: value 32/],
    ['* * * 13 *', /month: value 13 .*out of range 1-12/],
    ['* * * FOO *', /month: "FOO" in "FOO" is not a number or a name JAN-DEC/],
    ['* * * * FUNDAY', /day-of-week: "FUNDAY" .*not a number or a name SUN-SAT/],
    ['* * * * 8', /day-of-week: value 8 .*out of range 0-7/],
    ['MON * * * *', /minute: "MON" in "MON" is not a number$/],
    ['*/0 * * * *', /minute: step "0" in "\*\/0" is not a positive integer/],
    ['*/x * * * *', /minute: step "x"/],
    ['1/2/3 * * * *', /minute: more than one "\/"/],
    ['5-1 * * * *', /minute: range 5-1 in "5-1" runs backwards/],
    ['1,,2 * * * *', /minute: empty list item in "1,,2"/],
    ['1-2-3 * * * *', /minute: "1-2-3" is not a value or a range/],
    ['-5 * * * *', /minute: "-5" is not a value or a range/],
    ['* * * * * /5', /day-of-week: missing value before "\/"/],
    ['1.5 * * * *', /minute: "1.5"/],
    ['@fortnightly', /unknown descriptor "@fortnightly" \(expected one of @yearly/],
    ['@every 1m', /"@every" takes a duration/],
    ['TZ=Mars/Olympus_Mons * * * * *', /unknown time zone "Mars\/Olympus_Mons"/],
    ['TZ= * * * * *', /empty time zone/],
    ['TZ=UTC', /no schedule given/],
    ['0 0 30 2 *', /day-of-month 30 never occurs in month FEB/],
    ['0 0 31 APR,JUN,SEP,NOV *', /day-of-month 31 never occurs in month APR,JUN,SEP,NOV/],
  ];
  for (const [expr, re] of cases) {
    test(JSON.stringify(expr), () => {
      assert.throws(
        () => parseCron(expr),
        (e: unknown) => {
          assert.ok(e instanceof CronError, String(e));
          assert.ok(e.message.startsWith(`invalid cron expression "${expr}": `), e.message);
          assert.match(e.message, re);
          return true;
        },
      );
    });
  }

  test('impossible day of month is fine when the day of week can fire instead', () => {
    assert.deepEqual(fires('0 0 30 2 MON', '2024-02-01T00:00:00Z'), [z('2024-02-05T00:00:00')]);
    assert.deepEqual(fires('0 0 31 2,3 *', '2024-01-01T00:00:00Z'), [z('2024-03-31T00:00:00')]);
  });
});
