import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, type Case } from '../testing.js';

// Examples from the Bloblang methods documentation (string manipulation and regular expressions).
const cases: Case[] = [
  { mapping: 'root.title = this.title.capitalize()', io: [['{"title":"the foo bar"}', '{"title":"The Foo Bar"}']] },
  {
    mapping: 'root.has_foo = this.thing.contains("foo")',
    io: [
      ['{"thing":"this foo that"}', '{"has_foo":true}'],
      ['{"thing":"this bar that"}', '{"has_foo":false}'],
    ],
  },
  { mapping: 'root.escaped = this.value.escape_html()', io: [['{"value":"foo & bar"}', '{"escaped":"foo &amp; bar"}']] },
  { mapping: 'root.escaped = this.value.escape_url_query()', io: [['{"value":"foo & bar"}', '{"escaped":"foo+%26+bar"}']] },
  { mapping: 'root.escaped = this.value.escape_url_path()', io: [['{"value":"foo & bar/baz"}', '{"escaped":"foo%20&%20bar%2Fbaz"}']] },
  { mapping: 'root.unescaped = this.value.unescape_url_path()', io: [['{"value":"foo%20&%20bar"}', '{"unescaped":"foo & bar"}']] },
  { mapping: 'root.path = this.path_elements.filepath_join()', io: [['{"path_elements":["/foo/","bar.txt"]}', '{"path":"/foo/bar.txt"}']] },
  {
    mapping: 'root.path_sep = this.path.filepath_split()',
    io: [
      ['{"path":"/foo/bar.txt"}', '{"path_sep":["/foo/","bar.txt"]}'],
      ['{"path":"baz.txt"}', '{"path_sep":["","baz.txt"]}'],
    ],
  },
  {
    mapping: 'root.foo = "%s(%v): %v".format(this.name, this.age, this.fingers)',
    io: [['{"name":"lance","age":37,"fingers":13}', '{"foo":"lance(37): 13"}']],
  },
  {
    mapping: 'root.t1 = this.v1.has_prefix("foo")\nroot.t2 = this.v2.has_prefix("foo")',
    io: [['{"v1":"foobar","v2":"barfoo"}', '{"t1":true,"t2":false}']],
  },
  {
    mapping: 'root.t1 = this.v1.has_suffix("foo")\nroot.t2 = this.v2.has_suffix("foo")',
    io: [['{"v1":"foobar","v2":"barfoo"}', '{"t1":false,"t2":true}']],
  },
  { mapping: 'root.index = this.thing.index_of("bar")', io: [['{"thing":"foobar"}', '{"index":3}']] },
  { mapping: 'root.index = content().index_of("meow")', io: [['the cat meowed, the dog woofed', '{"index":8}']] },
  { mapping: 'root.foo_len = this.foo.length()', io: [['{"foo":"hello world"}', '{"foo_len":11}']] },
  { mapping: 'root.foo = this.foo.lowercase()', io: [['{"foo":"HELLO WORLD"}', '{"foo":"hello world"}']] },
  { mapping: 'root.quoted = this.thing.quote()', io: [['{"thing":"foo\\nbar"}', '{"quoted":"\\"foo\\\\nbar\\""}']] },
  { mapping: 'root.new_value = this.value.replace_all("foo","dog")', io: [['{"value":"The foo ate my homework"}', '{"new_value":"The dog ate my homework"}']] },
  { mapping: 'root.new_value = this.value.replace("foo","dog")', io: [['{"value":"foo foo"}', '{"new_value":"dog dog"}']] },
  {
    mapping: 'root.new_value = this.value.replace_all_many([\n  "<b>", "&lt;b&gt;",\n  "</b>", "&lt;/b&gt;",\n  "<i>", "&lt;i&gt;",\n  "</i>", "&lt;/i&gt;",\n])',
    io: [['{"value":"<i>Hello</i> <b>World</b>"}', '{"new_value":"&lt;i&gt;Hello&lt;/i&gt; &lt;b&gt;World&lt;/b&gt;"}']],
  },
  { mapping: 'root.reversed = this.thing.reverse()', io: [['{"thing":"backwards"}', '{"reversed":"sdrawkcab"}']] },
  { mapping: 'root = content().reverse()', io: [['{"thing":"backwards"}', '}"sdrawkcab":"gniht"{']] },
  {
    mapping: 'root.beginning = this.value.slice(0, 2)\nroot.end = this.value.slice(4)',
    io: [['{"value":"foo bar"}', '{"beginning":"fo","end":"bar"}']],
  },
  {
    mapping: 'root.last_chunk = this.value.slice(-4)\nroot.the_rest = this.value.slice(0, -4)',
    io: [['{"value":"foo bar"}', '{"last_chunk":" bar","the_rest":"foo"}']],
  },
  { mapping: 'root.slug = this.value.slug()', io: [['{"value":"Gopher & Benthos"}', '{"slug":"gopher-and-benthos"}']] },
  { mapping: 'root.slug = this.value.slug("fr")', io: [['{"value":"Gaufre & Poisson d\'Eau Profonde"}', '{"slug":"gaufre-et-poisson-deau-profonde"}']] },
  { mapping: 'root.new_value = this.value.split(",")', io: [['{"value":"foo,bar,baz"}', '{"new_value":["foo","bar","baz"]}']] },
  { mapping: 'root.stripped = this.value.strip_html()', io: [['{"value":"<p>the plain <strong>old text</strong></p>"}', '{"stripped":"the plain old text"}']] },
  {
    mapping: 'root.stripped = this.value.strip_html(["article"])',
    io: [['{"value":"<article><p>the plain <strong>old text</strong></p></article>"}', '{"stripped":"<article>the plain old text</article>"}']],
  },
  {
    mapping: 'root.title = this.title.trim("!?")\nroot.description = this.description.trim()',
    io: [['{"description":"  something happened and its amazing! ","title":"!!!watch out!?"}', '{"description":"something happened and its amazing!","title":"watch out"}']],
  },
  {
    mapping: 'root.name = this.name.trim_prefix("foobar_")\nroot.description = this.description.trim_prefix("foobar_")',
    io: [['{"description":"unchanged","name":"foobar_blobton"}', '{"description":"unchanged","name":"blobton"}']],
  },
  {
    mapping: 'root.name = this.name.trim_suffix("_foobar")\nroot.description = this.description.trim_suffix("_foobar")',
    io: [['{"description":"unchanged","name":"blobton_foobar"}', '{"description":"unchanged","name":"blobton"}']],
  },
  { mapping: 'root.unescaped = this.value.unescape_html()', io: [['{"value":"foo &amp; bar"}', '{"unescaped":"foo & bar"}']] },
  { mapping: 'root.unescaped = this.value.unescape_url_query()', io: [['{"value":"foo+%26+bar"}', '{"unescaped":"foo & bar"}']] },
  {
    mapping: 'root.sentences = this.value.unicode_segments("sentence")',
    io: [['{"value":"This is sentence 1.0. And this is sentence two."}', '{"sentences":["This is sentence 1.0. ","And this is sentence two."]}']],
  },
  { mapping: 'root.graphemes = this.value.unicode_segments("grapheme")', io: [['{"value":"🐕\u200d🦺 🫠"}', '{"graphemes":["🐕\u200d🦺"," ","🫠"]}']] },
  { mapping: 'root.words = this.value.unicode_segments("word")', io: [['{"value":"Hello, world!"}', '{"words":["Hello",","," ","world","!"]}']] },
  { mapping: 'root.unquoted = this.thing.unquote()', io: [['{"thing":"\\"foo\\\\nbar\\""}', '{"unquoted":"foo\\nbar"}']] },
  { mapping: 'root.foo = this.foo.uppercase()', io: [['{"foo":"hello world"}', '{"foo":"HELLO WORLD"}']] },
  { mapping: 'root.r = this.s.repeat(3)', io: [['{"s":"ab"}', '{"r":"ababab"}']] },
  {
    mapping: 'root.joined_words = this.words.join()\nroot.joined_numbers = this.numbers.map_each(this.string()).join(",")',
    io: [['{"words":["hello","world"],"numbers":[3,8,11]}', '{"joined_numbers":"3,8,11","joined_words":"helloworld"}']],
  },
  // Regular expressions
  { mapping: 'root.matches = this.value.re_find_all("a.")', io: [['{"value":"paranormal"}', '{"matches":["ar","an","al"]}']] },
  {
    mapping: 'root.matches = this.value.re_find_all_object("a(?P<foo>x*)b")',
    io: [['{"value":"-axxb-ab-"}', '{"matches":[{"0":"axxb","foo":"xx"},{"0":"ab","foo":""}]}']],
  },
  {
    mapping: 'root.matches = this.value.re_find_all_object("(?m)(?P<key>\\\\w+):\\\\s+(?P<value>\\\\w+)$")',
    io: [
      [
        '{"value":"option1: value1\\noption2: value2\\noption3: value3"}',
        '{"matches":[{"0":"option1: value1","key":"option1","value":"value1"},{"0":"option2: value2","key":"option2","value":"value2"},{"0":"option3: value3","key":"option3","value":"value3"}]}',
      ],
    ],
  },
  { mapping: 'root.matches = this.value.re_find_all_submatch("a(x*)b")', io: [['{"value":"-axxb-ab-"}', '{"matches":[["axxb","xx"],["ab",""]]}']] },
  { mapping: 'root.matches = this.value.re_find_object("a(?P<foo>x*)b")', io: [['{"value":"-axxb-ab-"}', '{"matches":{"0":"axxb","foo":"xx"}}']] },
  {
    mapping: 'root.matches = this.value.re_find_object("(?P<key>\\\\w+):\\\\s+(?P<value>\\\\w+)")',
    io: [['{"value":"option1: value1"}', '{"matches":{"0":"option1: value1","key":"option1","value":"value1"}}']],
  },
  {
    mapping: 'root.matches = this.value.re_match("[0-9]")',
    io: [
      ['{"value":"there are 10 puppies"}', '{"matches":true}'],
      ['{"value":"there are ten puppies"}', '{"matches":false}'],
    ],
  },
  { mapping: 'root.new_value = this.value.re_replace_all("ADD ([0-9]+)","+($1)")', io: [['{"value":"foo ADD 70"}', '{"new_value":"foo +(70)"}']] },
  { mapping: 'root.v = this.value.re_replace_all("(?P<w>[a-z]+)","<${w}>")', io: [['{"value":"ab 12 cd"}', '{"v":"<ab> 12 <cd>"}']] },
  { mapping: 'root.v = this.value.re_replace_all("a(x*)b","$1W")', io: [['{"value":"-ab-axxb-"}', '{"v":"---"}']] },
  { mapping: 'root.v = this.value.re_replace_all("a(x*)b","${1}W")', io: [['{"value":"-ab-axxb-"}', '{"v":"-W-xxW-"}']] },
  { mapping: 'root.v = this.value.re_replace_all("x*","-")', io: [['{"value":"abc"}', '{"v":"-a-b-c-"}']] },
  { mapping: 'root.v = this.value.re_find_all("a*")', io: [['{"value":"baaab"}', '{"v":["","aaa",""]}']] },
  // format verbs
  { mapping: 'root = "%05.2f|%-4d|%x|%q|%t|%v|%v".format(3.14159, 7, 255, "hi", true, [1,"a"], {"a":1})', io: [['{}', '03.14|7   |ff|"hi"|true|[1 a]|map[a:1]']] },
  { mapping: 'root = "%s".format({"a":1})', io: [['{}', 'map[a:%!s(int64=1)]']] },
  { mapping: 'root = "%d %s".format(1)', io: [['{}', '1 %!s(MISSING)']] },
  { mapping: 'root = "%d".format("x")', io: [['{}', '%!d(string=x)']] },
  { mapping: 'root = "%v %v".format(1.5, 1000000.0)', io: [['{}', '1.5 1e+06']] },
  { mapping: 'root.new_value = "%f".format(this.value)', io: [['{"value":0.5}', '{"new_value":"0.500000"}']] },
];

for (const c of cases) {
  test(`strings: ${c.mapping}`, () => {
    for (const [input, output] of c.io) assert.equal(run(c.mapping, input), output, `input: ${input}`);
  });
}

test('strings: bytes in, bytes out', () => {
  assert.equal(run('root = content().uppercase().type()', 'abc'), 'bytes');
  assert.equal(run('root = this.s.uppercase().type()', '{"s":"abc"}'), 'string');
  assert.equal(run('root = content().split(",").map_each(x -> x.type())', 'a,b'), '["bytes","bytes"]');
});

test('strings: type errors name the target', () => {
  assert.equal(
    run('root = this.n.trim()', '{"n":5}'),
    'Error("failed assignment (line 1): expected string value, got number from field `this.n` (5)")',
  );
});
