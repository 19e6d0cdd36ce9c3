import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, type Case } from '../testing.js';

// Examples from the Bloblang methods documentation (parsing, encoding, JWT) and functions.
const cases: Case[] = [
  { mapping: 'root.body = this.body.bloblang(this.mapping)', io: [
    ['{"body":{"foo":"hello world"},"mapping":"root.foo = this.foo.uppercase()"}', '{"body":{"foo":"HELLO WORLD"}}'],
    ['{"body":{"foo":"hello world 2"},"mapping":"root.foo = this.foo.capitalize()"}', '{"body":{"foo":"Hello World 2"}}'],
  ] },
  { mapping: 'root = this.doc.format_json()', io: [['{"doc":{"foo":"bar"}}', '{\n    "foo": "bar"\n}']] },
  { mapping: 'root = this.format_json("  ")', io: [['{"doc":{"foo":"bar"}}', '{\n  "doc": {\n    "foo": "bar"\n  }\n}']] },
  { mapping: 'root.doc = this.doc.format_json().string()', io: [['{"doc":{"foo":"bar"}}', '{"doc":"{\\n    \\"foo\\": \\"bar\\"\\n}"}']] },
  { mapping: 'root = this.doc.format_json(no_indent: true)', io: [['{"doc":{"foo":"bar"}}', '{"foo":"bar"}']] },
  {
    mapping: 'root = this.doc.format_json()',
    io: [['{"doc":{"email":"foo&bar@benthos.dev","name":"foo>bar"}}', '{\n    "email": "foo\\u0026bar@benthos.dev",\n    "name": "foo\\u003ebar"\n}']],
  },
  {
    mapping: 'root = this.doc.format_json(escape_html: false)',
    io: [['{"doc":{"email":"foo&bar@benthos.dev","name":"foo>bar"}}', '{\n    "email": "foo&bar@benthos.dev",\n    "name": "foo>bar"\n}']],
  },
  { mapping: 'root = this.format_msgpack().encode("hex")', io: [['{"foo":"bar"}', '81a3666f6fa3626172']] },
  { mapping: 'root.encoded = this.format_msgpack().encode("base64")', io: [['{"foo":"bar"}', '{"encoded":"gaNmb2+jYmFy"}']] },
  { mapping: 'root = content().decode("hex").parse_msgpack()', io: [['81a3666f6fa3626172', '{"foo":"bar"}']] },
  { mapping: 'root = this.encoded.decode("base64").parse_msgpack()', io: [['{"encoded":"gaNmb2+jYmFy"}', '{"foo":"bar"}']] },
  { mapping: 'root = this.format_xml()', io: [['{"foo":{"bar":{"baz":"foo bar baz"}}}', '<foo>\n    <bar>\n        <baz>foo bar baz</baz>\n    </bar>\n</foo>']] },
  { mapping: 'root = this.format_xml("  ")', io: [['{"foo":{"bar":{"baz":"foo bar baz"}}}', '<foo>\n  <bar>\n    <baz>foo bar baz</baz>\n  </bar>\n</foo>']] },
  { mapping: 'root.doc = this.format_xml("").string()', io: [['{"foo":{"bar":{"baz":"foo bar baz"}}}', '{"doc":"<foo>\\n<bar>\\n<baz>foo bar baz</baz>\\n</bar>\\n</foo>"}']] },
  { mapping: 'root = this.format_xml(no_indent: true)', io: [['{"foo":{"bar":{"baz":"foo bar baz"}}}', '<foo><bar><baz>foo bar baz</baz></bar></foo>']] },
  { mapping: 'root = this.format_xml(no_indent: true)', io: [['{"foo":{"-id":"1","#text":"hi","b":["x","y"]}}', '<foo id="1">hi<b>x</b><b>y</b></foo>']] },
  { mapping: 'root = this.doc.format_yaml()', io: [['{"doc":{"foo":"bar"}}', 'foo: bar\n']] },
  { mapping: 'root.doc = this.doc.format_yaml().string()', io: [['{"doc":{"foo":"bar"}}', '{"doc":"foo: bar\\n"}']] },
  { mapping: 'root.orders = this.orders.parse_csv()', io: [['{"orders":"foo,bar\\nfoo 1,bar 1\\nfoo 2,bar 2"}', '{"orders":[{"bar":"bar 1","foo":"foo 1"},{"bar":"bar 2","foo":"foo 2"}]}']] },
  { mapping: 'root.orders = this.orders.parse_csv(false)', io: [['{"orders":"foo 1,bar 1\\nfoo 2,bar 2"}', '{"orders":[["foo 1","bar 1"],["foo 2","bar 2"]]}']] },
  { mapping: 'root.orders = this.orders.parse_csv(delimiter:".")', io: [['{"orders":"foo.bar\\nfoo 1.bar 1\\nfoo 2.bar 2"}', '{"orders":[{"bar":"bar 1","foo":"foo 1"},{"bar":"bar 2","foo":"foo 2"}]}']] },
  {
    mapping: 'root.orders = this.orders.parse_csv(lazy_quotes:true)',
    io: [['{"orders":"foo,bar\\nfoo 1,bar 1\\nfoo\\" \\"2,bar\\" \\"2"}', '{"orders":[{"bar":"bar 1","foo":"foo 1"},{"bar":"bar\\" \\"2","foo":"foo\\" \\"2"}]}']],
  },
  { mapping: 'root.rows = this.csv.parse_csv(false)', io: [['{"csv":"\\"a, b\\",\\"say \\"\\"hi\\"\\"\\"\\nc,d"}', '{"rows":[["a, b","say \\"hi\\""],["c","d"]]}']] },
  { mapping: 'root.values = this.body.parse_form_url_encoded()', io: [['{"body":"noise=meow&animal=cat&fur=orange&fur=fluffy"}', '{"values":{"animal":"cat","fur":["orange","fluffy"],"noise":"meow"}}']] },
  { mapping: 'root.doc = this.doc.parse_json()', io: [['{"doc":"{\\"foo\\":\\"bar\\"}"}', '{"doc":{"foo":"bar"}}']] },
  {
    mapping: 'root.doc = this.doc.parse_json(use_number: true)',
    io: [['{"doc":"{\\"foo\\":\\"11380878173205700000000000000000000000000000000\\"}"}', '{"doc":{"foo":"11380878173205700000000000000000000000000000000"}}']],
  },
  { mapping: 'root.a = this.doc.parse_json().n.string()\nroot.b = this.doc.parse_json(use_number: true).n.string()', io: [['{"doc":"{\\"n\\":1000000}"}', '{"a":"1e+06","b":"1000000"}']] },
  {
    mapping: 'root.foo_url = this.foo_url.parse_url()',
    io: [
      [
        '{"foo_url":"https://docs.redpanda.com/redpanda-connect/guides/bloblang/about/"}',
        '{"foo_url":{"fragment":"","host":"docs.redpanda.com","opaque":"","path":"/redpanda-connect/guides/bloblang/about/","raw_fragment":"","raw_path":"","raw_query":"","scheme":"https"}}',
      ],
    ],
  },
  {
    mapping: 'root.username = this.url.parse_url().user.name | "unknown"',
    io: [
      ['{"url":"amqp://foo:bar@127.0.0.1:5672/"}', '{"username":"foo"}'],
      ['{"url":"redis://localhost:6379"}', '{"username":"unknown"}'],
    ],
  },
  {
    mapping: 'root.doc = this.doc.parse_xml()',
    io: [['{"doc":"<root><title>This is a title</title><content>This is some content</content></root>"}', '{"doc":{"root":{"content":"This is some content","title":"This is a title"}}}']],
  },
  {
    mapping: 'root.doc = this.doc.parse_xml(cast: false)',
    io: [['{"doc":"<root><title>This is a title</title><number id=99>123</number><bool>True</bool></root>"}', '{"doc":{"root":{"bool":"True","number":{"#text":"123","-id":"99"},"title":"This is a title"}}}']],
  },
  {
    mapping: 'root.doc = this.doc.parse_xml(cast: true)',
    io: [['{"doc":"<root><title>This is a title</title><number id=99>123</number><bool>True</bool></root>"}', '{"doc":{"root":{"bool":true,"number":{"#text":123,"-id":99},"title":"This is a title"}}}']],
  },
  { mapping: 'root.doc = this.doc.parse_xml()', io: [['{"doc":"<a><b>1</b><b>2</b><!-- c --><c x=\\"y\\"/></a>"}', '{"doc":{"a":{"b":["1","2"],"c":{"-x":"y"}}}}']] },
  { mapping: 'root.doc = this.doc.parse_yaml()', io: [['{"doc":"foo: bar"}', '{"doc":{"foo":"bar"}}']] },
  { mapping: 'root.doc = this.doc.parse_yaml()', io: [['{"doc":"a: 1\\nb: [x, 2.5, true]\\nc: null"}', '{"doc":{"a":1,"b":["x",2.5,true],"c":null}}']] },
  { mapping: 'root = this.s.parse_logfmt()', io: [['{"s":"level=info msg=\\"hello world\\" n=5"}', '{"level":"info","msg":"hello world","n":"5"}']] },
  // Encoding
  { mapping: 'root.decoded = this.value.decode("hex").string()', io: [['{"value":"68656c6c6f20776f726c64"}', '{"decoded":"hello world"}']] },
  { mapping: 'root = this.encoded.decode("ascii85")', io: [['{"encoded":"FD,B0+DGm>FDl80Ci\\"A>F`)8BEckl6F`M&(+Cno&@/"}', 'this is totally unstructured data']] },
  { mapping: 'root.encoded = this.value.encode("hex")', io: [['{"value":"hello world"}', '{"encoded":"68656c6c6f20776f726c64"}']] },
  { mapping: 'root.encoded = content().encode("ascii85")', io: [['this is totally unstructured data', '{"encoded":"FD,B0+DGm>FDl80Ci\\"A>F`)8BEckl6F`M&(+Cno&@/"}']] },
  {
    mapping: 'root.a = this.v.encode("base64")\nroot.b = this.v.encode("base64url")\nroot.c = this.v.encode("base64rawurl")\nroot.d = this.a.decode("base64").string()',
    io: [['{"v":"hi?>","a":"aGk/Pg=="}', '{"a":"aGk/Pg==","b":"aGk_Pg==","c":"aGk_Pg","d":"hi?>"}']],
  },
  { mapping: 'root.z = "abcd".encode("z85")\nroot.d = "vpA.S".decode("z85").string()', io: [['{}', '{"d":"abcd","z":"vpA.S"}']] },
  {
    mapping: 'root.h1 = this.value.hash("sha1").encode("hex")\nroot.h2 = this.value.hash("hmac_sha1","static-key").encode("hex")',
    io: [['{"value":"hello world"}', '{"h1":"2aae6c35c94fcfb415dbe95f408b9ce91ee846ed","h2":"d87e5f068fa08fe90bb95bc7c8344cb809179d76"}']],
  },
  {
    mapping: 'root.h1 = this.value.hash(algorithm: "crc32", polynomial: "Castagnoli").encode("hex")\nroot.h2 = this.value.hash(algorithm: "crc32", polynomial: "Koopman").encode("hex")',
    io: [['{"value":"hello world"}', '{"h1":"c99465aa","h2":"df373d3c"}']],
  },
  {
    mapping: 'root.crc = this.v.hash("crc32").encode("hex")\nroot.xx = this.v.hash("xxhash64").string()\nroot.md5 = this.v.hash("md5").encode("hex")\nroot.fnv32a = this.v.hash("fnv32a").encode("hex")\nroot.fnv64a = this.v.hash("fnv64a").encode("hex")',
    io: [['{"v":"hello world"}', '{"crc":"0d4a1185","fnv32a":"d58b3fa7","fnv64a":"779a65e7023cd2e7","md5":"5eb63bbbe01eeed093cb22bb8f5acdc3","xx":"5020219685658847592"}']],
  },
  { mapping: 'root.xx = "".hash("xxhash64").string()\nroot.xx2 = "abc".hash("xxhash64").string()', io: [['{}', '{"xx":"17241709254077376921","xx2":"4952883123889572249"}']] },
  {
    mapping: 'let key = "2b7e151628aed2a6abf7158809cf4f3c".decode("hex")\nlet vector = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff".decode("hex")\nroot.encrypted = this.value.encrypt_aes("ctr", $key, $vector).encode("hex")',
    io: [['{"value":"hello world!"}', '{"encrypted":"84e9b31ff7400bdf80be7254"}']],
  },
  {
    mapping: 'let key = "2b7e151628aed2a6abf7158809cf4f3c".decode("hex")\nlet vector = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff".decode("hex")\nroot.decrypted = this.value.decode("hex").decrypt_aes("ctr", $key, $vector).string()',
    io: [['{"value":"84e9b31ff7400bdf80be7254"}', '{"decrypted":"hello world!"}']],
  },
  { mapping: 'root.c = content().compress("gzip").decompress("gzip").string()\nroot.z = content().compress("zlib").decompress("zlib").string()', io: [['hello world', '{"c":"hello world","z":"hello world"}']] },
  { mapping: 'root.id = "example".uuid_v5().re_match("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")\nroot.dns = "example.com".uuid_v5("dns")', io: [['{}', '{"dns":"cfbff0d1-9375-5685-968c-48ce8b15ae17","id":true}']] },
  // JWT
  {
    mapping: 'root.claims = this.signed.parse_jwt_hs256("""dont-tell-anyone""")',
    io: [['{"signed":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1MTYyMzkwMjIsIm1vb2QiOiJEaXNkYWluZnVsIiwic3ViIjoiMTIzNDU2Nzg5MCJ9.YwXOM8v3gHVWcQRRRQc_zDlhmLnM62fwhFYGpiA0J1A"}', '{"claims":{"iat":1516239022,"mood":"Disdainful","sub":"1234567890"}}']],
  },
  {
    mapping: 'root.claims = this.signed.parse_jwt_hs384("""dont-tell-anyone""")',
    io: [['{"signed":"eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1MTYyMzkwMjIsIm1vb2QiOiJEaXNkYWluZnVsIiwic3ViIjoiMTIzNDU2Nzg5MCJ9.2Y8rf_ijwN4t8hOGGViON_GrirLkCQVbCOuax6EoZ3nluX0tCGezcJxbctlIfsQ2"}', '{"claims":{"iat":1516239022,"mood":"Disdainful","sub":"1234567890"}}']],
  },
  {
    mapping: 'root.claims = this.signed.parse_jwt_es256("""-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGtLqIBePHmIhQcf0JLgc+F/4W/oI\ndp0Gta53G35VerNDgUUXmp78J2kfh4qLdh0XtmOMI587tCaqjvDAXfs//w==\n-----END PUBLIC KEY-----""")',
    io: [['{"signed":"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1MTYyMzkwMjIsIm1vb2QiOiJEaXNkYWluZnVsIiwic3ViIjoiMTIzNDU2Nzg5MCJ9.GIRajP9JJbpTlqSCdNEz4qpQkRvzX4Q51YnTwVyxLDM9tKjR_a8ggHWn9CWj7KG0x8J56OWtmUxn112SRTZVhQ"}', '{"claims":{"iat":1516239022,"mood":"Disdainful","sub":"1234567890"}}']],
  },
  {
    mapping: 'root.claims = this.signed.parse_jwt_rs256("""-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAs/ibN8r68pLMR6gRzg4S\n8v8l6Q7yi8qURjkEbcNeM1rkokC7xh0I4JVTwxYSVv/JIW8qJdyspl5NIfuAVi32\nWfKvSAs+NIs+DMsNPYw3yuQals4AX8hith1YDvYpr8SD44jxhz/DR9lYKZFGhXGB\n+7NqQ7vpTWp3BceLYocazWJgusZt7CgecIq57ycM5hjM93BvlrUJ8nQ1a46wfL/8\nCy4P0et70hzZrsjjN41KFhKY0iUwlyU41yEiDHvHDDsTMBxAZosWjSREGfJL6Mfp\nXOInTHs/Gg6DZMkbxjQu6L06EdJ+Q/NwglJdAXM7Zo9rNELqRig6DdvG5JesdMsO\n+QIDAQAB\n-----END PUBLIC KEY-----""")',
    io: [['{"signed":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1MTYyMzkwMjIsIm1vb2QiOiJEaXNkYWluZnVsIiwic3ViIjoiMTIzNDU2Nzg5MCJ9.b0lH3jEupZZ4zoaly4Y_GCvu94HH6UKdKY96zfGNsIkPZpQLHIkZ7jMWlLlNOAd8qXlsBGP_i8H2qCKI4zlWJBGyPZgxXDzNRPVrTDfFpn4t4nBcA1WK2-ntXP3ehQxsaHcQU8Z_nsogId7Pme5iJRnoHWEnWtbwz5DLSXL3ZZNnRdrHM9MdI7QSDz9mojKDCaMpGN9sG7Xl-tGdBp1XzXuUOzG8S03mtZ1IgVR1uiBL2N6oohHIAunk8DIAmNWI-zgycTgzUGU7mvPkKH43qO8Ua1-13tCUBKKa8VxcotZ67Mxm1QAvBGoDnTKwWMwghLzs6d6WViXQg6eWlJcpBA"}', '{"claims":{"iat":1516239022,"mood":"Disdainful","sub":"1234567890"}}']],
  },
  {
    mapping: 'root.signed = this.claims.sign_jwt_hs256("""dont-tell-anyone""")',
    io: [['{"claims":{"sub":"user123"}}', '{"signed":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyMTIzIn0.hUl-nngPMY_3h9vveWJUPsCcO5PeL6k9hWLnMYeFbFQ"}']],
  },
  {
    mapping: 'root.signed = this.claims.sign_jwt_hs384("""dont-tell-anyone""")',
    io: [['{"claims":{"sub":"user123"}}', '{"signed":"eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyMTIzIn0.zGYLr83aToon1efUNq-hw7XgT20lPvZb8sYei8x6S6mpHwb433SJdXJXx0Oio8AZ"}']],
  },
  {
    mapping: 'root.signed = this.claims.sign_jwt_hs512("""dont-tell-anyone""")',
    io: [['{"claims":{"sub":"user123"}}', '{"signed":"eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyMTIzIn0.zBNR9o_6EDwXXKkpKLNJhG26j8Dc-mV-YahBwmEdCrmiWt5les8I9rgmNlWIowpq6Yxs4kLNAdFhqoRz3NXT3w"}']],
  },
  // Functions
  { mapping: 'root.doc = content().string()', io: [['{"foo":"bar"}', '{"doc":"{\\"foo\\":\\"bar\\"}"}']] },
  { mapping: 'root.mapped = json("foo.bar")', io: [['{"foo":{"bar":"hello world"}}', '{"mapped":"hello world"}']] },
  { mapping: 'root.doc = json()', io: [['{"foo":{"bar":"hello world"}}', '{"doc":{"foo":{"bar":"hello world"}}}']] },
  {
    mapping: 'root.a = range(0, 10)\nroot.b = range(start: 0, stop: this.max, step: 2) # Using named params\nroot.c = range(0, -this.max, -2)',
    io: [['{"max":10}', '{"a":[0,1,2,3,4,5,6,7,8,9],"b":[0,2,4,6,8],"c":[0,-2,-4,-6,-8]}']],
  },
  { mapping: 'root = this\nroot.bar = deleted()', io: [['{"bar":"bar_value","baz":"baz_value","foo":"foo value"}', '{"baz":"baz_value","foo":"foo value"}']] },
  { mapping: 'root.new_nums = this.nums.map_each(num -> if num < 10 { deleted() } else { num - 10 })', io: [['{"nums":[3,11,4,17]}', '{"new_nums":[1,7]}']] },
  { mapping: 'root.headers.traceparent = tracing_span().traceparent', io: [['{"some_stuff":"x"}', '{"headers":{"traceparent":null}}']] },
  { mapping: 'root.e = env("SLUICE_TEST_UNSET_VAR").or("default value")', io: [['{}', '{"e":"default value"}']] },
  { mapping: 'root.a = uuid_v4().length()\nroot.b = uuid_v7().length()\nroot.c = nanoid().length()\nroot.d = nanoid(54, "abcde").length()\nroot.e = ksuid().length()\nroot.f = ulid().length()\nroot.g = ulid("hex").length()', io: [['{}', '{"a":36,"b":36,"c":21,"d":54,"e":27,"f":26,"g":32}']] },
  { mapping: 'root.a = random_int(max: 20) <= 20\nroot.b = random_int(min: 10, max: 20) >= 10', io: [['{}', '{"a":true,"b":true}']] },
  { mapping: 'root.a = hostname().length() > 0', io: [['{}', '{"a":true}']] },
];

for (const c of cases) {
  test(`encoding/parsing: ${c.mapping.slice(0, 80)}`, () => {
    for (const [input, output] of c.io) assert.equal(run(c.mapping, input), output, `input: ${input}`);
  });
}

test('counter examples', async () => {
  const { CompiledMapping } = await import('../mapping.js');
  const { parseMapping } = await import('../parser.js');
  const mk = (s: string) => new CompiledMapping(parseMapping(s));
  const a = mk('map foos {\n  root = counter()\n}\n\nroot.meow_id = null.apply("foos")\nroot.woof_id = null.apply("foos")');
  assert.equal(run(a, '{}'), '{"meow_id":1,"woof_id":2}');
  assert.equal(run(a, '{}'), '{"meow_id":3,"woof_id":4}');
  const b = mk('root.consecutive_doggos = counter(min: 1, set: if !this.sound.lowercase().contains("woof") { 0 })');
  assert.equal(run(b, '{"sound":"woof woof"}'), '{"consecutive_doggos":1}');
  assert.equal(run(b, '{"sound":"woofer wooooo"}'), '{"consecutive_doggos":2}');
  assert.equal(run(b, '{"sound":"meow"}'), '{"consecutive_doggos":0}');
  assert.equal(run(b, '{"sound":"uuuuh uh uh woof uhhhhhh"}'), '{"consecutive_doggos":1}');
  const c = mk('root.things = counter(set: if this.id == null { null })');
  assert.equal(run(c, '{"id":"a"}'), '{"things":1}');
  assert.equal(run(c, '{"id":"b"}'), '{"things":2}');
  assert.equal(run(c, '{"what":"just checking"}'), '{"things":2}');
  assert.equal(run(c, '{"id":"c"}'), '{"things":3}');
  const d = mk('root = this\nroot.id = count("bloblang_function_example")');
  assert.equal(run(d, '{"message":"foo"}'), '{"id":1,"message":"foo"}');
  assert.equal(run(d, '{"message":"bar"}'), '{"id":2,"message":"bar"}');
});
