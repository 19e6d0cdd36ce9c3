import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, type Case } from '../testing.js';

// Examples from the Bloblang methods documentation (numbers and timestamps).
const cases: Case[] = [
  { mapping: 'root.outs = this.ins.map_each(ele -> ele.abs())', io: [['{"ins":[9,-18,1.23,-4.56]}', '{"outs":[9,18,1.23,4.56]}']] },
  {
    mapping: 'root.new_value = this.value.ceil()',
    io: [
      ['{"value":5.3}', '{"new_value":6}'],
      ['{"value":-5.9}', '{"new_value":-5}'],
    ],
  },
  {
    mapping: 'root.new_value = (this.value * (pi() / 180)).cos()',
    io: [
      ['{"value":45}', '{"new_value":0.7071067811865476}'],
      ['{"value":0}', '{"new_value":1}'],
      ['{"value":180}', '{"new_value":-1}'],
    ],
  },
  { mapping: 'root.out = this.in.float32()', io: [['{"in":"6.674282313423543523453425345e-11"}', '{"out":6.674283e-11}']] },
  { mapping: 'root.out = this.in.float64()', io: [['{"in":"6.674282313423543523453425345e-11"}', '{"out":6.674282313423544e-11}']] },
  { mapping: 'root.new_value = this.value.floor()', io: [['{"value":5.7}', '{"new_value":5}']] },
  {
    mapping: 'root.a = this.a.int16()\nroot.b = this.b.round().int16()\nroot.c = this.c.int16()\nroot.d = this.d.int16().catch(0)',
    io: [['{"a":12,"b":12.34,"c":"12","d":-12}', '{"a":12,"b":12,"c":12,"d":-12}']],
  },
  { mapping: 'root = this.int16()', io: [['"0xDE"', '222']] },
  { mapping: 'root = this.int32()', io: [['"0xDEAD"', '57005']] },
  { mapping: 'root = this.int64()', io: [['"0xDEADBEEF"', '3735928559']] },
  { mapping: 'root = this.int8()', io: [['"0xD"', '13']] },
  {
    mapping: 'root.a = this.a.uint16()\nroot.b = this.b.round().uint16()\nroot.c = this.c.uint16()\nroot.d = this.d.uint16().catch(0)',
    io: [['{"a":12,"b":12.34,"c":"12","d":-12}', '{"a":12,"b":12,"c":12,"d":0}']],
  },
  { mapping: 'root = this.uint32()', io: [['"0xDEAD"', '57005']] },
  { mapping: 'root = this.uint64()', io: [['"0xDEADBEEF"', '3735928559']] },
  { mapping: 'root = this.uint8()', io: [['"0xD"', '13']] },
  {
    mapping: 'root = this.int8()',
    io: [
      ['300', 'Error("failed assignment (line 1): field `this`: value is too large to be cast as an 8-bit signed integer")'],
      ['1.5', 'Error("failed assignment (line 1): field `this`: float value contains decimals and therefore cannot be cast as a signed integer, if you intend to round the value then call `.round()` explicitly before this cast")'],
    ],
  },
  {
    mapping: 'root.new_value = this.value.log().round()',
    io: [
      ['{"value":1}', '{"new_value":0}'],
      ['{"value":2.7183}', '{"new_value":1}'],
    ],
  },
  {
    mapping: 'root.new_value = this.value.log10()',
    io: [
      ['{"value":100}', '{"new_value":2}'],
      ['{"value":1000}', '{"new_value":3}'],
    ],
  },
  { mapping: 'root.biggest = this.values.max()', io: [['{"values":[0,3,2.5,7,5]}', '{"biggest":7}']] },
  {
    mapping: 'root.new_value = [0,this.value].max()',
    io: [
      ['{"value":-1}', '{"new_value":0}'],
      ['{"value":7}', '{"new_value":7}'],
    ],
  },
  { mapping: 'root.smallest = this.values.min()', io: [['{"values":[0,3,-2.5,7,5]}', '{"smallest":-2.5}']] },
  {
    mapping: 'root.new_value = [10,this.value].min()',
    io: [
      ['{"value":2}', '{"new_value":2}'],
      ['{"value":23}', '{"new_value":10}'],
    ],
  },
  { mapping: 'root.new_value = this.value * 10.pow(-2)', io: [['{"value":2}', '{"new_value":0.02}']] },
  { mapping: 'root.new_value = this.value.pow(-2)', io: [['{"value":2}', '{"new_value":0.25}']] },
  {
    mapping: 'root.new_value = this.value.round()',
    io: [
      ['{"value":5.3}', '{"new_value":5}'],
      ['{"value":5.9}', '{"new_value":6}'],
      ['{"value":-2.5}', '{"new_value":-3}'],
    ],
  },
  {
    mapping: 'root.new_value = (this.value * (pi() / 180)).sin()',
    io: [
      ['{"value":45}', '{"new_value":0.7071067811865475}'],
      ['{"value":0}', '{"new_value":0}'],
      ['{"value":90}', '{"new_value":1}'],
    ],
  },
  {
    mapping: 'root.new_value = "%f".format((this.value * (pi() / 180)).tan())',
    io: [
      ['{"value":0}', '{"new_value":"0.000000"}'],
      ['{"value":45}', '{"new_value":"1.000000"}'],
      ['{"value":180}', '{"new_value":"-0.000000"}'],
    ],
  },
  { mapping: 'root.radians = this.degrees * (pi() / 180)', io: [['{"degrees":45}', '{"radians":0.7853981633974483}']] },
  { mapping: 'root.degrees = this.radians * (180 / pi())', io: [['{"radians":0.78540}', '{"degrees":45.00010522957486}']] },
  { mapping: 'root.a = 12.bitwise_and(10)\nroot.b = 12.bitwise_or(3)\nroot.c = 12.bitwise_xor(5)', io: [['{}', '{"a":8,"b":15,"c":9}']] },
  // Timestamps
  { mapping: 'root.delay_for_ns = this.delay_for.parse_duration()', io: [['{"delay_for":"50us"}', '{"delay_for_ns":50000}']] },
  { mapping: 'root.delay_for_s = this.delay_for.parse_duration() / 1000000000', io: [['{"delay_for":"2h"}', '{"delay_for_s":7200}']] },
  { mapping: 'root.d = this.d.parse_duration()', io: [['{"d":"-1.5h"}', '{"d":-5400000000000}'], ['{"d":"2h45m"}', '{"d":9900000000000}']] },
  { mapping: 'root.delay_for_ns = this.delay_for.parse_duration_iso8601()', io: [['{"delay_for":"P3Y6M4DT12H30M5S"}', '{"delay_for_ns":110839937000000000}']] },
  { mapping: 'root.delay_for_s = this.delay_for.parse_duration_iso8601() / 1000000000', io: [['{"delay_for":"PT2H"}', '{"delay_for_s":7200}']] },
  { mapping: 'root.delay_for_s = this.delay_for.parse_duration_iso8601() / 1000000000', io: [['{"delay_for":"PT2.5S"}', '{"delay_for_s":2.5}']] },
  {
    mapping: 'root.something_at = this.created_at.ts_format(format: "2006-Jan-02 15:04:05", tz: "UTC")',
    io: [
      ['{"created_at":1597405526}', '{"something_at":"2020-Aug-14 11:45:26"}'],
      ['{"created_at":"2020-08-14T11:50:26.371Z"}', '{"something_at":"2020-Aug-14 11:50:26"}'],
    ],
  },
  {
    mapping: 'root.something_at = this.created_at.ts_format("2006-Jan-02 15:04:05.999999", "UTC")',
    io: [
      ['{"created_at":1597405526.123456}', '{"something_at":"2020-Aug-14 11:45:26.123456"}'],
      ['{"created_at":"2020-08-14T11:50:26.371Z"}', '{"something_at":"2020-Aug-14 11:50:26.371"}'],
    ],
  },
  { mapping: 'root.doc.timestamp = this.doc.timestamp.ts_parse("2006-Jan-02")', io: [['{"doc":{"timestamp":"2020-Aug-14"}}', '{"doc":{"timestamp":"2020-08-14T00:00:00Z"}}']] },
  { mapping: 'root.created_at_hour = this.created_at.ts_round("1h".parse_duration())', io: [['{"created_at":"2020-08-14T05:54:23Z"}', '{"created_at_hour":"2020-08-14T06:00:00Z"}']] },
  {
    mapping: 'root.something_at = this.created_at.ts_strftime("%Y-%b-%d %H:%M:%S", "UTC")',
    io: [
      ['{"created_at":1597405526}', '{"something_at":"2020-Aug-14 11:45:26"}'],
      ['{"created_at":"2020-08-14T11:50:26.371Z"}', '{"something_at":"2020-Aug-14 11:50:26"}'],
    ],
  },
  {
    mapping: 'root.something_at = this.created_at.ts_strftime("%Y-%b-%d %H:%M:%S.%f", "UTC")',
    io: [
      ['{"created_at":1597405526}', '{"something_at":"2020-Aug-14 11:45:26.000000"}'],
      ['{"created_at":"2020-08-14T11:50:26.371Z"}', '{"something_at":"2020-Aug-14 11:50:26.371000"}'],
    ],
  },
  { mapping: 'root.doc.timestamp = this.doc.timestamp.ts_strptime("%Y-%b-%d")', io: [['{"doc":{"timestamp":"2020-Aug-14"}}', '{"doc":{"timestamp":"2020-08-14T00:00:00Z"}}']] },
  {
    mapping: 'root.doc.timestamp = this.doc.timestamp.ts_strptime("%Y-%b-%d %H:%M:%S.%f")',
    io: [['{"doc":{"timestamp":"2020-Aug-14 11:50:26.371000"}}', '{"doc":{"timestamp":"2020-08-14T11:50:26.371Z"}}']],
  },
  { mapping: 'root.between = this.started_at.ts_sub("2020-08-14T05:54:23Z").abs()', io: [['{"started_at":"2020-08-13T05:54:23Z"}', '{"between":86400000000000}']] },
  { mapping: 'root.created_at_utc = this.created_at.ts_tz("UTC")', io: [['{"created_at":"2021-02-03T17:05:06+01:00"}', '{"created_at_utc":"2021-02-03T16:05:06Z"}']] },
  { mapping: 'root.created_at_unix = this.created_at.ts_unix()', io: [['{"created_at":"2009-11-10T23:00:00Z"}', '{"created_at_unix":1257894000}']] },
  { mapping: 'root.created_at_unix = this.created_at.ts_unix_micro()', io: [['{"created_at":"2009-11-10T23:00:00Z"}', '{"created_at_unix":1257894000000000}']] },
  { mapping: 'root.created_at_unix = this.created_at.ts_unix_milli()', io: [['{"created_at":"2009-11-10T23:00:00Z"}', '{"created_at_unix":1257894000000}']] },
  { mapping: 'root.created_at_unix = this.created_at.ts_unix_nano()', io: [['{"created_at":"2009-11-10T23:00:00Z"}', '{"created_at_unix":1257894000000000000}']] },
  { mapping: 'root.t = this.t.ts_add_iso8601("P1M1D")', io: [['{"t":"2020-01-31T10:00:00Z"}', '{"t":"2020-03-03T10:00:00Z"}']] },
  { mapping: 'root.t = this.t.ts_sub_iso8601("PT1H30M")', io: [['{"t":"2020-01-31T10:00:00Z"}', '{"t":"2020-01-31T08:30:00Z"}']] },
  { mapping: 'root.t = this.t.ts_format("Mon Jan 2 15:04:05 -0700 MST 2006", "UTC")', io: [['{"t":"2020-08-14T11:45:26Z"}', '{"t":"Fri Aug 14 11:45:26 +0000 UTC 2020"}']] },
  { mapping: 'root.t = this.t.ts_format("2006-01-02T15:04:05Z07:00")', io: [['{"t":"2020-08-14T11:45:26+01:00"}', '{"t":"2020-08-14T11:45:26+01:00"}']] },
  { mapping: 'root.t = this.t.ts_tz("America/New_York").ts_format("2006-01-02 15:04 MST -07:00")', io: [['{"t":"2020-08-14T11:45:26Z"}', '{"t":"2020-08-14 07:45 EDT -04:00"}']] },
  { mapping: 'root.t = this.t.ts_parse("02/01/2006 3:04PM")', io: [['{"t":"14/08/2020 1:45PM"}', '{"t":"2020-08-14T13:45:00Z"}']] },
  {
    mapping: 'root.t = this.t.ts_parse("2006-01-02")',
    io: [['{"t":"2020-13-01"}', 'Error("failed assignment (line 1): field `this.t`: parsing time \\"2020-13-01\\": month out of range")']],
  },
  {
    mapping: 'root.t = this.t.ts_parse("2006-01-02")',
    io: [['{"t":"nope"}', 'Error("failed assignment (line 1): field `this.t`: parsing time \\"nope\\" as \\"2006-01-02\\": cannot parse \\"nope\\" as \\"2006\\"")']],
  },
  { mapping: 'root.t = (this.t + 300).ts_format("15:04:05", "UTC")', io: [['{"t":1597405526}', '{"t":"11:50:26"}']] },
];

for (const c of cases) {
  test(`numbers/time: ${c.mapping}`, () => {
    for (const [input, output] of c.io) assert.equal(run(c.mapping, input), output, `input: ${input}`);
  });
}

test('time: now() is an RFC 3339 string and timestamp_unix is an int', () => {
  const out = JSON.parse(run('root.now = now()\nroot.unix = timestamp_unix()\nroot.nano = timestamp_unix_nano()', '{}')) as Record<string, unknown>;
  assert.match(String(out['now']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  assert.ok(Number.isInteger(out['unix']));
});
