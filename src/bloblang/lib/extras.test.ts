import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../../engine/message.js';
import { compileMapping } from '../mapping.js';
import { parseError, run, runCli, type Case } from '../testing.js';
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress, xxhash32 } from './lz4.js';

// json_path, json_schema, lz4/snappy, and behaviour taken from the Go unit tests of Bloblang.
const cases: Case[] = [
  {
    mapping: 'root.all_names = this.json_path("$..name")',
    io: [
      ['{"name":"alice","foo":{"name":"bob"}}', '{"all_names":["alice","bob"]}'],
      ['{"thing":["this","bar",{"name":"alice"}]}', '{"all_names":["alice"]}'],
    ],
  },
  {
    mapping: `root.text_objects = this.json_path("$.body[?(@.type=='text')]")`,
    io: [['{"body":[{"type":"image","id":"foo"},{"type":"text","id":"bar"}]}', '{"text_objects":[{"id":"bar","type":"text"}]}']],
  },
  {
    mapping: 'root = this.json_path("$.store.book[?(@.price < 10)].author")',
    io: [['{"store":{"book":[{"author":"a","price":8},{"author":"b","price":12}]}}', '["a"]']],
  },
  { mapping: 'root = this.json_path("$.store.book[0].author")', io: [['{"store":{"book":[{"author":"a"}]}}', 'a']] },
  { mapping: 'root = this.json_path("$.a[-1:]")', io: [['{"a":[1,2,3]}', '[3]']] },
  { mapping: 'root = this.json_path("$.a[0:2]")', io: [['{"a":[1,2,3]}', '[1,2]']] },
  { mapping: `root = this.json_path("$['a','b']")`, io: [['{"a":1,"b":2,"c":3}', '[1,2]']] },
  { mapping: 'root = this.json_path("$.*")', io: [['{"b":1,"a":2}', '[2,1]']] },
  {
    mapping: 'root = this.json_path("$.nope")',
    io: [['{}', 'Error("failed assignment (line 1): field `this`: unknown key nope")']],
  },
  {
    mapping: 'root = this.json_schema("""{\n  "type":"object",\n  "properties":{\n    "foo":{\n      "type":"string"\n    }\n  }\n}""")',
    io: [
      ['{"foo":"bar"}', '{"foo":"bar"}'],
      ['{"foo":5}', 'Error("failed assignment (line 1): field `this`: foo invalid type. expected: string, given: integer")'],
    ],
  },
  {
    mapping: 'root = this.json_schema("""{"type":"object","required":["fooBar"],"properties":{"a":{"type":"array","items":{"type":"integer","minimum":3}}}}""")',
    io: [
      ['{"fooBar":1,"a":[3,4]}', '{"a":[3,4],"fooBar":1}'],
      [
        '{"a":[1,5,2.5]}',
        'Error("failed assignment (line 1): field `this`: (root) fooBar is required\\na.0 must be greater than or equal to 3\\na.2 invalid type. expected: integer, given: number")',
      ],
    ],
  },
  {
    mapping: 'root = this.json_schema("""{"enum":["a","b"]}""")',
    io: [['"c"', 'Error("failed assignment (line 1): field `this`: (root) (root) must be one of the following: \\"a\\", \\"b\\"")']],
  },
  {
    mapping: 'root.compressed = content().compress("lz4").encode("base64")',
    io: [['hello world I love space', '{"compressed":"BCJNGGRwuRgAAIBoZWxsbyB3b3JsZCBJIGxvdmUgc3BhY2UAAAAAGoETLg=="}']],
  },
  {
    mapping: 'root = this.compressed.decode("base64").decompress("lz4")',
    io: [['{"compressed":"BCJNGGRwuRgAAIBoZWxsbyB3b3JsZCBJIGxvdmUgc3BhY2UAAAAAGoETLg=="}', 'hello world I love space']],
  },
  {
    mapping: 'root = [content().compress("snappy").decompress("snappy").string(), content().compress("lz4").decompress("lz4").string()]',
    io: [['abcabcabcabcabcabcabcabcabcabc', '["abcabcabcabcabcabcabcabcabcabc","abcabcabcabcabcabcabcabcabcabc"]']],
  },
  // Go unit tests: error annotations and paths.
  {
    mapping: 'root = json("nope").contains("foo")',
    io: [['{"nope":false}', 'Error("failed assignment (line 1): expected string, array or object value, got bool from json path `nope` (false)")']],
  },
  {
    mapping: 'root = []\nroot."-".A = "foo"\nroot."-" = "bar"',
    io: [['{}', '[{"A":"foo"},"bar"]']],
  },
  {
    mapping: 'root = "hello world"\nroot.foo = this.bar',
    io: [['{"bar":"baz"}', 'Error("failed assignment (line 2): unable to set target path foo as the value of the root was a non-object type (string)")']],
  },
  {
    mapping: 'root.foo = "hello world"\nroot.foo.bar = this.bar',
    io: [['{"bar":"baz"}', 'Error("failed assignment (line 2): unable to set target path foo.bar as the value of foo was a non-object type (string)")']],
  },
  {
    mapping: 'root.foo = this.bar',
    io: [
      ['{@#$ not valid json', `Error("failed assignment (line 1): unable to reference message as structured (with 'this.bar'): parse as json: invalid character '@' looking for beginning of object key string")`],
      ['', `Error("failed assignment (line 1): unable to reference message as structured (with 'this.bar'): message is empty")`],
    ],
  },
  { mapping: 'meta = [1]', io: [['{}', 'Error("failed assignment (line 1): setting root meta object requires object value, received: []interface {}")']] },
  { mapping: 'root = ["foo","bar","baz"].index(-4).catch("buz")', io: [['{}', 'buz']] },
  { mapping: 'root = "hello world".hash("crc32", "", "Koopman").encode("hex")', io: [['{}', 'df373d3c']] },
  { mapping: 'root = "hello world".encode("ascii85")', io: [['{}', 'BOu!rD]j7BEbo7']] },
  { mapping: 'root = "nope".number(5.2)', io: [['{}', '5.2']] },
  {
    mapping: 'root = "hello world".encrypt_aes("cbc", "2b7e151628aed2a6abf7158809cf4f3c".decode("hex"), "000102030405060708090a0b0c0d0e0f".decode("hex"))',
    io: [['{}', 'Error("failed assignment (line 1): string literal: plaintext is not a multiple of the block size")']],
  },
];

for (const c of cases) {
  test(`extras: ${c.mapping}`, () => {
    for (const [input, output] of c.io) assert.equal(run(c.mapping, input), output, `input: ${input}`);
  });
}

test('extras: unknown compression algorithms are parse errors', () => {
  assert.equal(parseError('root = "hello".compress("zstd")'), 'line 1 char 32: unrecognised compression algorithm: zstd');
});

test('extras: from() with negative indexes and from_all()', () => {
  const batch = [new Message('{"foo":1}'), new Message('{"foo":2}'), new Message('not json', { k: 'v' })];
  const m = compileMapping('root = [json("foo").from(-2), json("foo").or("x").from_all(), meta("k").from(-1)]');
  assert.equal(m.map(batch, 0)?.text(), '[2,[1,2,"x"],"v"]');
});

test('extras: flow_id is created once and kept in metadata', () => {
  const msg = new Message('{}');
  const m = compileMapping('root = [flow_id(), flow_id()]');
  const out = m.map([msg], 0);
  const ids = JSON.parse(out?.text() ?? '[]') as string[];
  assert.equal(ids[0], ids[1]);
  assert.match(ids[0] ?? '', /^\d+_\d+$/);
});

test('extras: fused statements see root assignments in mutations', () => {
  const m = compileMapping('root.b = this.a + 1\nroot.c = this.b\nroot.d = this.c');
  const msg = new Message('{"a":1}');
  m.mutate([msg], 0);
  assert.equal(msg.text(), '{"a":1,"b":2,"c":2,"d":2}');
  // The same mapping as a `mapping` reads the input only.
  assert.equal(m.map([new Message('{"a":1}')], 0)?.text(), '{"b":2,"c":null,"d":null}');
});

test('extras: blobl prints bytes arrays as base64 like json.Marshal', () => {
  assert.equal(runCli('root = content().split(",")', 'foo,bar'), '["Zm9v","YmFy"]');
});

test('extras: lz4 and snappy round trips', () => {
  const inputs = ['', 'a', 'hello world', 'x'.repeat(100000), Array.from({ length: 5000 }, (_, i) => `line ${i % 37}`).join('\n')];
  for (const s of inputs) {
    const b = new TextEncoder().encode(s);
    assert.deepEqual(lz4Decompress(lz4Compress(b)), b);
    assert.deepEqual(snappyDecompress(snappyCompress(b)), b);
  }
  assert.ok(lz4Compress(new TextEncoder().encode('x'.repeat(100000))).length < 2000);
});

test('extras: xxhash32 reference values', () => {
  assert.equal(xxhash32(new Uint8Array(0)), 0x02cc5d05);
  assert.equal(xxhash32(new TextEncoder().encode('a')), 0x550d7456);
  assert.equal(xxhash32(new TextEncoder().encode('abc')), 0x32d153ff);
});
