import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Message } from '../engine/message.js';
import './testing.js';
import { BloblangSyntaxError, DELETE, F64, NOTHING, createBloblangEnvironment, goJsonSerializer, goMetaString, runBlobl } from './index.js';

async function blobl(args: string[], stdin: string): Promise<{ code: number; out: string; err: string }> {
  const i = new PassThrough();
  const o = new PassThrough();
  const e = new PassThrough();
  let out = '';
  let err = '';
  o.on('data', (d: Buffer) => (out += d.toString()));
  e.on('data', (d: Buffer) => (err += d.toString()));
  i.end(stdin);
  const code = await runBlobl(args, { stdin: i, stdout: o, stderr: e });
  return { code, out, err };
}

test('blobl: mapping as argument, one line per document', async () => {
  const r = await blobl(['root.a = this.a + 1'], '{"a":1}\n{"a":2}\n');
  assert.equal(r.code, 0);
  assert.equal(r.out, '{"a":2}\n{"a":3}\n');
  assert.equal(r.err, '');
});

test('blobl: last line without newline is processed', async () => {
  const r = await blobl(['root = this.a'], '{"a":"x"}\n{"a":"y"}');
  assert.equal(r.out, 'x\ny\n');
});

test('blobl: counter state carries across lines', async () => {
  const r = await blobl(['root = counter()'], '{}\n{}\n{}\n');
  assert.equal(r.out, '1\n2\n3\n');
});

test('blobl: runtime error goes to stderr and processing continues', async () => {
  const r = await blobl(['root = this.a.uppercase()'], '{"a":"x"}\n{"a":5}\n{"a":"z"}\n');
  assert.equal(r.code, 0);
  assert.equal(r.out, 'X\nZ\n');
  assert.match(r.err, /^failed to execute map: /);
  assert.match(r.err, /expected string value, got number from field `this.a` \(5\)/);
});

test('blobl: parse error exits 1 with a caret snippet', async () => {
  const r = await blobl(['root = this.'], '{"a":1}\n');
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /^failed to parse mapping: line 1 char 13: /);
  assert.ok(r.err.includes('root = this.\n'), r.err);
  assert.ok(r.err.includes('^'), r.err);
});

test('blobl: deleted root prints an empty line, untouched root the input', async () => {
  assert.equal((await blobl(['root = deleted()'], '{"a":1}\n')).out, '\n');
  assert.equal((await blobl(['meta foo = "bar"'], '{"b":1,"a":2}\n')).out, '{"a":2,"b":1}\n');
});

test('blobl: HTML characters are escaped like json.Marshal', async () => {
  const r = await blobl(['root.v = this.v'], '{"v":"<a&b>"}\n');
  assert.equal(r.out, '{"v":"\\u003ca\\u0026b\\u003e"}\n');
});

test('blobl: --raw reads the line as a string', async () => {
  const r = await blobl(['-r', 'root = content().uppercase()'], 'hello world\n');
  assert.equal(r.out, 'HELLO WORLD\n');
  const r2 = await blobl(['--raw', 'root = this.length()'], 'abc\n');
  assert.equal(r2.out, '3\n');
});

test('blobl: --pretty indents objects', async () => {
  const r = await blobl(['-p', 'root = this'], '{"a":{"b":1}}\n');
  assert.equal(r.out, '{\n  "a": {\n    "b": 1\n  }\n}\n');
});

test('blobl: -f reads the mapping from a file, imports resolve next to it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'blobl-'));
  try {
    writeFileSync(join(dir, 'lib.blobl'), 'map shout {\n  root = this.uppercase()\n}\n');
    writeFileSync(join(dir, 'main.blobl'), 'import "./lib.blobl"\nroot.v = this.v.apply("shout")\n');
    const r = await blobl(['-f', join(dir, 'main.blobl')], '{"v":"hi"}\n');
    assert.equal(r.err, '');
    assert.equal(r.out, '{"v":"HI"}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('blobl: invalid JSON input with this reference errors', async () => {
  const r = await blobl(['root = this.a'], 'not json\n');
  assert.equal(r.out, '');
  assert.match(r.err, /failed to execute map: /);
});

test('blobl: content() works on non-JSON input', async () => {
  const r = await blobl(['root = content().string().length()'], 'not json\n');
  assert.equal(r.out, '8\n');
});

// ---------------------------------------------------------------------------------------------
// Environment API

const env = createBloblangEnvironment();

test('environment: compileMapping parse error carries line, column and caret', () => {
  assert.throws(
    () => env.compileMapping('root.a = this.a\nroot.b = ]\nroot.c = 1\n'),
    (e: unknown) => {
      assert.ok(e instanceof BloblangSyntaxError);
      assert.equal(e.line, 2);
      assert.ok(e.message.includes('^'));
      assert.match(e.short, /^line 2 char \d+: /);
      return true;
    },
  );
});

test('environment: map copies metadata and builds a new document', () => {
  const m = env.compileMapping('root.id = this.id\nroot.src = @source\nmeta out = "yes"');
  const msg = new Message('{"id":7,"other":true}', { source: 'kafka' });
  const res = m.map([msg], 0);
  assert.ok(res);
  assert.equal(res.text(), '{"id":7,"src":"kafka"}');
  assert.equal(res.metaGet('out'), 'yes');
  assert.equal(res.metaGet('source'), 'kafka');
  // The original is untouched.
  assert.equal(msg.text(), '{"id":7,"other":true}');
  assert.equal(msg.metaGet('out'), undefined);
});

test('environment: map returns null when deleted, throws on failure', () => {
  const m = env.compileMapping('root = if this.drop { deleted() } else { this }');
  assert.equal(m.map([new Message('{"drop":true}')], 0), null);
  assert.equal(m.map([new Message('{"drop":false}')], 0)?.text(), '{"drop":false}');
  const bad = env.compileMapping('root.a = "x"\nroot.b = this.n.number()');
  assert.throws(() => bad.map([new Message('{"n":"abc"}')], 0), /failed assignment \(line 2\)/);
});

test('environment: mutate edits the message in place, this sees the edits', () => {
  const m = env.compileMapping('root.b = this.a + 1\nroot.c = this.b * 2\nroot.a = deleted()');
  const msg = new Message('{"a":1,"keep":"x"}');
  const res = m.mutate([msg], 0);
  assert.equal(res, msg);
  assert.equal(msg.text(), '{"b":2,"c":4,"keep":"x"}');
});

test('environment: mapping this is the original, not the new root', () => {
  const m = env.compileMapping('root.b = this.a + 1\nroot.c = this.b');
  const res = m.map([new Message('{"a":1}')], 0);
  assert.equal(res?.text(), '{"b":2,"c":null}');
});

test('environment: query returns the root value', () => {
  const m = env.compileMapping('root = this.n > 3');
  assert.equal(m.query([new Message('{"n":5}')], 0), true);
  assert.equal(m.query([new Message('{"n":1}')], 0), false);
});

test('environment: batch functions see the batch', () => {
  const m = env.compileMapping('root = [batch_index(), batch_size(), json("v")]');
  const batch = [new Message('{"v":"a"}'), new Message('{"v":"b"}')];
  assert.equal(m.map(batch, 1)?.text(), '[1,2,"b"]');
});

test('environment: execWith runs with a given root and this (branch result maps)', () => {
  const m = env.compileMapping('root.result = this.body\nroot.n = this.count + 1');
  const orig = { id: 1 };
  const r = m.execWith({ this: { body: 'ok', count: 1 }, root: orig, meta: null });
  assert.deepEqual(r.root, { id: 1, result: 'ok', n: 2 });
  const untouched = env.compileMapping('meta x = "y"').execWith({ this: {}, root: orig, meta: new Message('') });
  assert.equal(untouched.root, orig);
  const del = env.compileMapping('root = deleted()').execWith({ this: {} });
  assert.equal(del.root, DELETE);
  const none = env.compileMapping('let x = 1').execWith({ this: {} });
  assert.equal(none.root, NOTHING);
});

test('environment: structured results serialise like Go', () => {
  const m = env.compileMapping('root.z = 1\nroot.a = 2.5 * 2\nroot.m = (1000000000000.0 * 1000000000.0).string()');
  const res = m.map([new Message('{}')], 0);
  assert.equal(res?.text(), '{"a":5,"m":"1e+21","z":1}');
});

test('environment: interpolation', () => {
  const msg = new Message('{"name":"sluice","n":3,"f":1.5,"o":{"a":[1,2]}}', { topic: 'events' });
  const cases: Array<[string, string]> = [
    ['plain', 'plain'],
    ['hello ${! this.name }!', 'hello sluice!'],
    ['${! @topic }-${! this.n }', 'events-3'],
    ['${!this.f}', '1.5'],
    ['${! this.o }', '{"a":[1,2]}'],
    ['${! this.missing }', 'null'],
    ['${! true }', 'true'],
    ['${{! this.name }}', '${! this.name }'],
    ['${! content().length() }', String(msg.bytes().length)],
    ['${! this.name.uppercase() }/${! meta("topic") }', 'SLUICE/events'],
  ];
  for (const [src, want] of cases) {
    const it = env.interpolate(src);
    assert.equal(it.render([msg], 0), want, src);
  }
  assert.equal(env.interpolate('static').isStatic, true);
  assert.equal(env.interpolate('${! 1 }').isStatic, false);
  assert.throws(() => env.interpolate('${! this. }'), BloblangSyntaxError);
});

test('goJsonSerializer writes Go-compatible JSON bytes', () => {
  const txt = (v: unknown): string => new TextDecoder().decode(goJsonSerializer(v));
  assert.equal(txt({ b: 1, a: '<&>' }), '{"a":"<&>","b":1}');
  assert.equal(txt([1e21, 6.674282313423544e-11, 0.1, -0]), '[1e+21,6.674282313423544e-11,0.1,0]');
  assert.equal(txt(9007199254740993n), '9007199254740993');
  assert.equal(txt('str'), 'str');
});

test('metadata values: typed in mappings, Go strings for outputs', () => {
  const m = env.compileMapping('meta a = 10 / 2\nmeta b = {"x":"<"}\nmeta c = "2020-01-01T00:00:00Z".ts_parse("2006-01-02T15:04:05Z07:00")\nroot = [@a.type(), @c.type()]');
  const out = m.map([new Message('{}')], 0);
  assert.ok(out);
  assert.equal(out.text(), '["number","timestamp"]');
  assert.equal(goMetaString(out.metaGet('a')), '5');
  assert.equal(goMetaString(out.metaGet('b')), '{"x":"<"}');
  assert.equal(goMetaString(out.metaGet('c')), '2020-01-01T00:00:00Z');
  assert.equal(JSON.stringify({ f: new F64(5), g: new F64(1.5, '1.50') }), '{"f":5,"g":1.5}');
  assert.equal(String(new F64(1.5, '1.50')), '1.50');
});
