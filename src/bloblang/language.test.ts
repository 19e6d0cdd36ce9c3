import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, runCli, type Case } from './testing.js';

// Examples from the Bloblang "about", "arithmetic" and "advanced" guides, plus language edge cases.
const cases: Case[] = [
  {
    name: 'assignment with inferred root/this',
    mapping: 'root.id = this.thing.id\nroot.type = "yo"\n\n# Both `root` and `this` are optional, and will be inferred in their absence.\ncontent = thing.doc.message',
    io: [['{"thing":{"id":"wat1","doc":{"title":"wut","message":"hello world"}}}', '{"content":"hello world","id":"wat1","type":"yo"}']],
  },
  {
    name: 'root = this then add',
    mapping: 'root = this\nroot.foo = "added value"',
    io: [['{"id":"wat1","message":"hello world"}', '{"foo":"added value","id":"wat1","message":"hello world"}']],
  },
  {
    name: 'quoted path segments',
    mapping: 'root."foo.bar".baz = this."buz bev".fub',
    io: [['{"buz bev":{"fub":"hello world"}}', '{"foo.bar":{"baz":"hello world"}}']],
  },
  {
    name: 'parse base64 content',
    mapping: 'root = content().decode("base64").parse_json()',
    io: [['eyJmb28iOiJiYXIifQ==', '{"foo":"bar"}']],
  },
  { name: 'raw string root', mapping: 'root = this.foo', io: [['{"foo":"hello world"}', 'hello world']] },
  {
    name: 'deleting fields',
    mapping: 'root = this\nroot.bar = deleted()',
    io: [['{"id":"wat1","message":"hello world","bar":"remove me"}', '{"id":"wat1","message":"hello world"}']],
  },
  { name: 'variables', mapping: 'let foo = "yo"\nroot.new_doc.type = $foo', io: [['{}', '{"new_doc":{"type":"yo"}}']] },
  {
    name: 'coalesce',
    mapping: 'root.new_doc.type = this.thing.(article | comment | this).type',
    io: [
      ['{"thing":{"article":{"type":"foo"}}}', '{"new_doc":{"type":"foo"}}'],
      ['{"thing":{"comment":{"type":"bar"}}}', '{"new_doc":{"type":"bar"}}'],
      ['{"thing":{"type":"baz"}}', '{"new_doc":{"type":"baz"}}'],
    ],
  },
  {
    name: 'literals',
    mapping: 'root = [\n  7, false, "string", null, {\n    "first": 11,\n    "second": {"foo":"bar"},\n    "third": """multiple\nlines on this\nstring"""\n  }\n]',
    io: [['{}', '[7,false,"string",null,{"first":11,"second":{"foo":"bar"},"third":"multiple\\nlines on this\\nstring"}]']],
  },
  {
    name: 'arithmetic and comparison',
    mapping: 'root.is_big = this.number > 100\nroot.multiplied = this.number * 7',
    io: [
      ['{"number":50}', '{"is_big":false,"multiplied":350}'],
      ['{"number":150}', '{"is_big":true,"multiplied":1050}'],
    ],
  },
  {
    name: 'conditional statements',
    mapping:
      'root = this\n\nroot.sorted_foo = if this.foo.type() == "array" { this.foo.sort() }\n\nif this.foo.type() == "string" {\n  root.upper_foo = this.foo.uppercase()\n  root.lower_foo = this.foo.lowercase()\n}',
    io: [
      ['{"foo":"FooBar"}', '{"foo":"FooBar","lower_foo":"foobar","upper_foo":"FOOBAR"}'],
      ['{"foo":["foo","bar"]}', '{"foo":["foo","bar"],"sorted_foo":["bar","foo"]}'],
    ],
  },
  {
    name: 'if else if else expression',
    mapping:
      'root.sound = if this.type == "cat" {\n  this.cat.meow\n} else if this.type == "dog" {\n  this.dog.woof.uppercase()\n} else {\n  "sweet sweet silence"\n}',
    io: [
      ['{"type":"cat","cat":{"meow":"meeeeooooow!"}}', '{"sound":"meeeeooooow!"}'],
      ['{"type":"dog","dog":{"woof":"guurrrr woof woof!"}}', '{"sound":"GUURRRR WOOF WOOF!"}'],
      ['{"type":"caterpillar","caterpillar":{"name":"oleg"}}', '{"sound":"sweet sweet silence"}'],
    ],
  },
  {
    name: 'match with subject',
    mapping:
      'root.new_doc = match this.doc {\n  this.type == "article" => this.article\n  this.type == "comment" => this.comment\n  _ => this\n}',
    io: [
      ['{"doc":{"type":"article","article":{"id":"foo","content":"qux"}}}', '{"new_doc":{"content":"qux","id":"foo"}}'],
      ['{"doc":{"type":"comment","comment":{"id":"bar","content":"quz"}}}', '{"new_doc":{"content":"quz","id":"bar"}}'],
      [
        '{"doc":{"type":"neither","content":"some other stuff unchanged"}}',
        '{"new_doc":{"content":"some other stuff unchanged","type":"neither"}}',
      ],
    ],
  },
  {
    name: 'match literal cases',
    mapping: 'root = this\nroot.type = match this.type { "doc" => "document", "art" => "article", _ => this }',
    io: [['{"type":"doc","foo":"bar"}', '{"foo":"bar","type":"document"}']],
  },
  {
    name: 'match without subject or catch-all',
    mapping: 'root.new_doc = match {\n  this.doc.type == "article" => this.doc.article\n  this.doc.type == "comment" => this.doc.comment\n}',
    io: [['{"doc":{"type":"neither","content":"some other stuff unchanged"}}', '{"doc":{"type":"neither","content":"some other stuff unchanged"}}']],
  },
  {
    name: 'methods',
    mapping:
      'root.doc.id = this.thing.id.string().catch(uuid_v4())\nroot.doc.reduced_nums = this.thing.nums.map_each(num -> if num < 10 {\n  deleted()\n} else {\n  num - 10\n})\nroot.has_good_taste = ["pikachu","mewtwo","magmar"].contains(this.user.fav_pokemon)',
    io: [
      [
        '{"thing":{"id":"foo","nums":[3,11,4,17]},"user":{"fav_pokemon":"mewtwo"}}',
        '{"doc":{"id":"foo","reduced_nums":[1,7]},"has_good_taste":true}',
      ],
    ],
  },
  {
    name: 'named and nameless args',
    mapping: 'root.foo_one = this.(bar | baz).trim().replace_all(old: "dog", new: "cat")\nroot.foo_two = this.(bar | baz).trim().replace_all("dog", "cat")',
    io: [['{"baz":"  my dog  "}', '{"foo_one":"my cat","foo_two":"my cat"}']],
  },
  {
    name: 'maps',
    mapping:
      'map things {\n  root.first  = this.thing_one\n  root.second = this.thing_two\n}\n\nroot.foo = this.value_one.apply("things")\nroot.bar = this.value_two.apply("things")',
    io: [
      [
        '{"value_one":{"thing_one":"hey","thing_two":"yo"},"value_two":{"thing_one":"sup","thing_two":"waddup"}}',
        '{"bar":{"first":"sup","second":"waddup"},"foo":{"first":"hey","second":"yo"}}',
      ],
    ],
  },
  {
    name: 'filter message',
    mapping: 'root = if this.doc.urls.length() < 10 { deleted() }',
    io: [
      ['{"doc":{"urls":["a"]}}', '<Message deleted>'],
      ['{"doc":{"urls":["a","b","c","d","e","f","g","h","i","j"]}}', '{"doc":{"urls":["a","b","c","d","e","f","g","h","i","j"]}}'],
    ],
  },
  { name: 'catch on split', mapping: 'root.foo = this.bar.split(",").catch([])', io: [['{"bar":5}', '{"foo":[]}']] },
  {
    name: 'catch bracketed boolean',
    mapping: 'root.thing = ( this.foo > this.bar && this.baz.contains("wut") ).catch(false)',
    io: [
      ['{"foo":"a"}', '{"thing":false}'],
      ['{"foo":5,"bar":3,"baz":"wut"}', '{"thing":true}'],
    ],
  },
  {
    name: 'catch over a chain',
    mapping: 'root.things = this.foo.split(",").map_each( ele -> ele.parse_json() ).catch([])',
    io: [
      ['{"foo":"1,2,nope"}', '{"things":[]}'],
      ['{"foo":"1,2"}', '{"things":[1,2]}'],
    ],
  },
  { name: 'or default', mapping: 'root.foo = this.bar.index(5).or("default")', io: [['{"bar":[1,2]}', '{"foo":"default"}']] },
  {
    name: 'map parameters via objects',
    mapping:
      'map formatting {\n  root = this.pattern.format(this.value)\n}\n\nroot.a = {\n  "value":this.a,\n  "pattern":this.pattern,\n}.apply("formatting")\n\nroot.b = {\n  "value":this.b,\n  "pattern":this.pattern,\n}.apply("formatting")',
    io: [['{"a":"foo","b":"bar","pattern":"[%v]"}', '{"a":"[foo]","b":"[bar]"}']],
  },
  {
    name: 'recursive tree walk',
    mapping:
      'map unescape_values {\n  root = match {\n    this.type() == "object" => this.map_each(item -> item.value.apply("unescape_values")),\n    this.type() == "array" => this.map_each(ele -> ele.apply("unescape_values")),\n    this.type() == "string" => this.unescape_html(),\n    _ => this,\n  }\n}\nroot = this.apply("unescape_values")',
    io: [['{"first":"foo &amp; bar","second":{"third":["baz &amp; buz",5]}}', '{"first":"foo & bar","second":{"third":["baz & buz",5]}}']],
  },
  {
    name: 'unary minus and precedence',
    mapping: 'root.a = -this.x\nroot.b = 2 + 3 * 4\nroot.c = (2 + 3) * 4\nroot.d = 10 - 2 - 3\nroot.e = 7 % 3\nroot.f = 7 / 2\nroot.g = 8 / 2',
    io: [['{"x":5}', '{"a":-5,"b":14,"c":20,"d":5,"e":1,"f":3.5,"g":4}']],
  },
  {
    name: 'boolean operators at one level, left to right',
    mapping: 'root.a = true || false && false\nroot.b = false && true || true\nroot.c = !true\nroot.d = !this.t',
    io: [['{"t":false}', '{"a":false,"b":true,"c":false,"d":true}']],
  },
  {
    name: 'equality across types',
    mapping:
      'root.a = 5 == 5.0\nroot.b = "5" == 5\nroot.c = "foo" != 5\nroot.d = null == null\nroot.e = [1,"a"] == [1,"a"]\nroot.f = {"a":1} == {"a":1.0}\nroot.g = this.n == 3',
    io: [['{"n":3.0}', '{"a":true,"b":false,"c":true,"d":true,"e":true,"f":true,"g":true}']],
  },
  {
    name: 'string comparison and concatenation',
    mapping: 'root.a = "abc" < "abd"\nroot.b = "foo" + "bar"\nroot.c = this.s + "!"',
    io: [['{"s":"hi"}', '{"a":true,"b":"foobar","c":"hi!"}']],
  },
  {
    name: 'integer vs float arithmetic',
    mapping: 'root.a = 3 + 2\nroot.b = 3 + 2.5\nroot.c = 1.5 * 2\nroot.d = (1.5 * 2).string()\nroot.e = (5).string()\nroot.f = 1000000.0.string()\nroot.g = this.f.string()',
    io: [['{"f":2.5}', '{"a":5,"b":5.5,"c":3,"d":"3","e":"5","f":"1e+06","g":"2.5"}']],
  },
  {
    name: 'json number text is preserved when passed through',
    mapping: 'root = this',
    io: [
      ['{"a":1.0,"b":1.50,"c":1e3,"d":12345678901234567890,"e":9007199254740993}', '{"a":1.0,"b":1.50,"c":1e3,"d":12345678901234567890,"e":9007199254740993}'],
    ],
  },
  {
    name: 'big int64 arithmetic is exact',
    mapping: 'root.a = this.n + 1\nroot.b = this.n.string()',
    io: [['{"n":9007199254740993}', '{"a":9007199254740994,"b":"9007199254740993"}']],
  },
  {
    name: 'division by zero',
    mapping: 'root.a = this.n / 0',
    io: [['{"n":5}', 'Error("failed assignment (line 1): number literal: attempted to divide by zero")']],
  },
  {
    name: 'type mismatch error message',
    mapping: 'root.a = this.a + this.b',
    io: [['{"a":"x","b":5}', 'Error("failed assignment (line 1): cannot add types string (from field `this.a`) and number (from field `this.b`)")']],
  },
  {
    name: 'method type error names the target',
    mapping: 'root.a = this.foo.uppercase()',
    io: [['{"foo":5}', 'Error("failed assignment (line 1): expected string value, got number from field `this.foo` (5)")']],
  },
  {
    name: 'error in later statement reports its line',
    mapping: 'root.a = 1\nroot.b = 2\nroot.c = this.x.number()',
    io: [['{"x":"abc"}', 'Error("failed assignment (line 3): field `this.x`: strconv.ParseFloat: parsing \\"abc\\": invalid syntax")']],
  },
  {
    name: 'throw',
    mapping:
      'root.doc.type = match {\n  this.exists("header.id") => "foo"\n  this.exists("body.data") => "bar"\n  _ => throw("unknown type")\n}\nroot.doc.contents = (this.body.content | this.thing.body)',
    io: [
      ['{"header":{"id":"first"},"thing":{"body":"hello world"}}', '{"doc":{"contents":"hello world","type":"foo"}}'],
      ['{"nothing":"matches"}', 'Error("failed assignment (line 1): unknown type")'],
    ],
  },
  {
    name: 'catch with error context',
    mapping: 'root.url = this.url.parse_url().catch(err -> {"error":err,"input":this.url})',
    io: [['{"url":"invalid %&# url"}', '{"url":{"error":"field `this.url`: parse \\"invalid %&\\": invalid URL escape \\"%&\\"","input":"invalid %&# url"}}']],
  },
  {
    name: 'catch deletes unstructured',
    mapping: 'root = this.catch(deleted())',
    io: [
      ['{"doc":{"foo":"bar"}}', '{"doc":{"foo":"bar"}}'],
      ['not structured data', '<Message deleted>'],
    ],
  },
  {
    name: 'root never assigned keeps input',
    mapping: 'let x = 5',
    io: [['{"a":1,"b":[1,2]}', '{"a":1,"b":[1,2]}']],
  },
  {
    name: 'metadata set and read',
    mapping: 'meta foo = "bar"\nmeta baz = 5\nroot.a = @foo\nroot.b = @\nroot.c = metadata("foo")',
    io: [['{}', '{"a":"bar","b":{"baz":5,"foo":"bar"},"c":null}']],
  },
  {
    name: 'metadata deletion',
    mapping: 'meta foo = "bar"\nmeta bar = "baz"\nmeta foo = deleted()\nroot = @',
    io: [['{}', '{"bar":"baz"}']],
  },
  {
    name: 'meta replace all',
    mapping: 'meta foo = "x"\nmeta = {"a":"b"}\nroot = @',
    io: [['{}', '{"a":"b"}']],
  },
  {
    name: 'nothing skips assignment',
    mapping: 'root.a = 1\nroot.a = nothing()\nroot.b = if false { 5 }',
    io: [['{}', '{"a":1}']],
  },
  {
    name: 'object literal with dynamic keys and deleted values',
    mapping: 'root = {this.k: this.v, "static": deleted(), "x": nothing(), "y": 1}',
    io: [['{"k":"key","v":"val"}', '{"key":"val","y":1}']],
  },
  {
    name: 'array literal skips deleted',
    mapping: 'root = [1, deleted(), this.a, nothing()]',
    io: [['{"a":2}', '[1,2]']],
  },
  {
    name: 'array index paths',
    mapping: 'root.a = this.items.1.name\nroot.b = this.items.5.name\nroot.c = this.get("items.*.name")',
    io: [['{"items":[{"name":"x"},{"name":"y"}]}', '{"a":"y","b":null,"c":["x","y"]}']],
  },
  {
    name: 'missing fields are null',
    mapping: 'root.a = this.nope\nroot.b = this.nope.deeper\nroot.c = this.str.deeper',
    io: [['{"str":"x"}', '{"a":null,"b":null,"c":null}']],
  },
  {
    name: 'root reference reads the new document',
    mapping: 'root.a = 5\nroot.b = root.a + 1',
    io: [['{}', '{"a":5,"b":6}']],
  },
  {
    name: 'lambda named context keeps outer this',
    mapping: 'root = this.items.map_each(i -> i + this.offset)',
    io: [['{"items":[1,2],"offset":10}', '[11,12]']],
  },
  {
    name: 'bare context in map_each',
    mapping: 'root = this.items.map_each(this * 2)',
    io: [['{"items":[1,2]}', '[2,4]']],
  },
  {
    name: 'map_each on objects',
    mapping: 'root.new_dict = this.dict.map_each(item -> item.value.uppercase())',
    io: [['{"dict":{"foo":"hello","bar":"world"}}', '{"new_dict":{"bar":"WORLD","foo":"HELLO"}}']],
  },
  {
    name: 'nested lambdas',
    mapping: 'root = this.a.map_each(x -> this.b.map_each(y -> x * y))',
    io: [['{"a":[1,2],"b":[3,4]}', '[[3,4],[6,8]]']],
  },
  {
    name: 'variables hold values',
    mapping: 'let a = this.x\nlet "b c" = 3\nroot.sum = $a + var("b c")',
    io: [['{"x":2}', '{"sum":5}']],
  },
  {
    name: 'undefined variable',
    mapping: 'root = $nope',
    io: [['{}', 'Error("failed assignment (line 1): variable \'nope\' undefined")']],
  },
  {
    name: 'bare path assignment strips root',
    mapping: 'foo.bar = 5\nroot.baz = 6',
    io: [['{}', '{"baz":6,"foo":{"bar":5}}']],
  },
  {
    name: 'assign through non-object fails',
    mapping: 'root.a = "x"\nroot.a.b = 5',
    io: [['{}', 'Error("failed assignment (line 2): unable to set target path a.b as the value of a was a non-object type (string)")']],
  },
  {
    name: 'single query mapping',
    mapping: 'this.foo + this.bar',
    io: [['{"foo":5,"bar":3}', '8']],
  },
  {
    name: 'comments everywhere',
    mapping: '# leading\nroot.a = 1 # trailing\n\n   # indented\nroot.b = 2 # comment\n',
    io: [['{}', '{"a":1,"b":2}']],
  },
  {
    name: 'if statement with else if and else',
    mapping: 'if this.n > 10 {\n  root.size = "big"\n} else if this.n > 5 {\n  root.size = "medium"\n} else {\n  root.size = "small"\n}',
    io: [
      ['{"n":20}', '{"size":"big"}'],
      ['{"n":7}', '{"size":"medium"}'],
      ['{"n":1}', '{"size":"small"}'],
    ],
  },
  {
    name: 'if expression with null condition is false',
    mapping: 'root.a = if this.missing { "yes" } else { "no" }',
    io: [['{}', '{"a":"no"}']],
  },
  {
    name: 'if expression non-bool condition',
    mapping: 'root.a = if this.s { "yes" }',
    io: [['{"s":"str"}', 'Error("failed assignment (line 1): field `this.s` resolved to a non-boolean value str (string)")']],
  },
  {
    name: 'mutation-like root = this then delete root field',
    mapping: 'root = this\nroot.a.b = deleted()',
    io: [['{"a":{"b":1,"c":2}}', '{"a":{"c":2}}']],
  },
  {
    name: 'counter persists across documents',
    mapping: 'root.id = counter()',
    io: [],
  },
  {
    name: 'not applies to the whole chain',
    mapping: 'root = !this.s.contains("a")',
    io: [['{"s":"abc"}', 'false']],
  },
  {
    name: 'or on null and errors',
    mapping: 'root.a = this.x.or("def")\nroot.b = this.y.number().or(0)',
    io: [['{"y":"nope"}', '{"a":"def","b":0}']],
  },
  {
    name: 'coalesce operator inside expressions',
    mapping: 'root.a = this.x | this.y | "none"\nroot.b = (this.n.number() | 0) + 1',
    io: [['{"y":"yy","n":"bad"}', '{"a":"yy","b":1}']],
  },
  {
    name: 'from_all on a single message batch',
    mapping: 'root.all = json("a").from_all()\nroot.idx = batch_index()\nroot.size = batch_size()',
    io: [['{"a":1}', '{"all":[1],"idx":0,"size":1}']],
  },
  {
    name: 'content and raw strings',
    mapping: 'root = content().string().uppercase()',
    io: [['hello', 'HELLO']],
  },
  {
    name: 'html escaping in output',
    mapping: 'root.a = "<b>&</b>"',
    io: [['{}', '{"a":"<b>&</b>"}']],
  },
  {
    name: 'string escapes in literals',
    mapping: 'root.a = "tab\\there \\"quoted\\" \\u00e9"',
    io: [['{}', '{"a":"tab\\there \\"quoted\\" é"}']],
  },
  {
    name: 'timestamps serialise as RFC 3339',
    mapping: 'root.t = "2020-08-14T11:45:26.371Z".ts_parse("2006-01-02T15:04:05Z07:00")',
    io: [['{}', '{"t":"2020-08-14T11:45:26.371Z"}']],
  },
  {
    name: 'bytes serialise as base64',
    mapping: 'root.b = "hello".bytes()',
    io: [['{}', '{"b":"aGVsbG8="}']],
  },
  {
    name: 'floats format like Go',
    mapping: 'root.a = 0.1 + 0.2\nroot.b = 5.0\nroot.c = this.small\nroot.d = 100000000000000000000.0 * 10.0',
    io: [['{"small":6.674282313423544e-11}', '{"a":0.30000000000000004,"b":5,"c":6.674282313423544e-11,"d":1e+21}']],
  },
];

for (const c of cases) {
  test(`language: ${c.name ?? c.mapping}`, () => {
    for (const [input, output] of c.io) {
      assert.equal(run(c.mapping, input), output, `input: ${input}`);
    }
  });
}

test('language: blobl CLI output escapes HTML and re-serialises untouched input', () => {
  assert.equal(runCli('root.a = "<b>&</b>"', '{}'), '{"a":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"}');
  assert.equal(runCli('let x = 1', '{"b":1, "a":[1,2]}'), '{"a":[1,2],"b":1}');
  assert.equal(runCli('let x = 1', 'not json'), 'not json');
  assert.equal(runCli('root = deleted()', '{}'), '');
  assert.equal(runCli('root = this.a', '{"a":"multi\\nline"}'), 'multi\nline');
  assert.equal(
    runCli('root.a = this.foo', 'not json'),
    'Error("unable to reference message as structured (with \'this.foo\'): parse as json: invalid character \'o\' in literal null (expecting \'u\')")',
  );
});

test('language: counter carries state within a compiled mapping', async () => {
  const { CompiledMapping } = await import('./mapping.js');
  const { parseMapping } = await import('./parser.js');
  const m = new CompiledMapping(parseMapping('root.id = counter()'));
  assert.equal(runCli(m, '{}'), '{"id":1}');
  assert.equal(runCli(m, '{}'), '{"id":2}');
});

test('language: mapping processor error format', () => {
  assert.equal(
    run('root.a = this.foo.bar', 'not json'),
    'Error("failed assignment (line 1): unable to reference message as structured (with \'this.foo.bar\'): parse as json: invalid character \'o\' in literal null (expecting \'u\')")',
  );
  assert.equal(run('root = deleted()', '{}'), '<Message deleted>');
  assert.equal(run('root.a = 1', 'x'), '{"a":1}');
  assert.equal(run('root.a = "<&>"', '{}'), '{"a":"<&>"}');
});

test('language: map errors report relative lines', () => {
  const m = 'map foo {\n  root.a = 1\n  root.b = this.x.uppercase()\n}\nroot = this.apply("foo")';
  assert.equal(runCli(m, '{"x":5}'), 'Error("failed assignment (line 3): expected string value, got number from field `this.x` (5)")');
  assert.equal(
    run(m, '{"x":5}'),
    'Error("failed assignment (line 5): failed assignment (line 3): expected string value, got number from field `this.x` (5)")',
  );
});
