import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, type Case } from '../testing.js';

// Examples from the Bloblang methods documentation (object & array manipulation, general).
const cases: Case[] = [
  {
    mapping: 'map thing {\n  root.inner = this.first\n}\n\nroot.foo = this.doc.apply("thing")',
    io: [['{"doc":{"first":"hello world"}}', '{"foo":{"inner":"hello world"}}']],
  },
  {
    mapping: 'map create_foo {\n  root.name = "a foo"\n  root.purpose = "to be a foo"\n}\n\nroot = this\nroot.foo = null.apply("create_foo")',
    io: [['{"id":"1234"}', '{"foo":{"name":"a foo","purpose":"to be a foo"},"id":"1234"}']],
  },
  {
    mapping: 'root.result = this.foo.exists("bar.baz")',
    io: [
      ['{"foo":{"bar":{"baz":"yep, I exist"}}}', '{"result":true}'],
      ['{"foo":{"bar":{}}}', '{"result":false}'],
      ['{"foo":{}}', '{"result":false}'],
    ],
  },
  {
    mapping: 'root.has_field = this.data.exists("optional_field")',
    io: [
      ['{"data":{"optional_field":null}}', '{"has_field":true}'],
      ['{"data":{}}', '{"has_field":false}'],
    ],
  },
  {
    mapping: 'root.all_over_21 = this.patrons.all(patron -> patron.age >= 21)',
    io: [
      ['{"patrons":[{"id":"1","age":18},{"id":"2","age":23}]}', '{"all_over_21":false}'],
      ['{"patrons":[{"id":"1","age":45},{"id":"2","age":23}]}', '{"all_over_21":true}'],
    ],
  },
  {
    mapping: 'root.any_over_21 = this.patrons.any(patron -> patron.age >= 21)',
    io: [
      ['{"patrons":[{"id":"1","age":18},{"id":"2","age":23}]}', '{"any_over_21":true}'],
      ['{"patrons":[{"id":"1","age":10},{"id":"2","age":12}]}', '{"any_over_21":false}'],
    ],
  },
  { mapping: 'root.foo = this.foo.append("and", "this")', io: [['{"foo":["bar","baz"]}', '{"foo":["bar","baz","and","this"]}']] },
  {
    mapping: 'root.combined = this.items.append(this.new_item)',
    io: [['{"items":["apple","banana"],"new_item":"orange"}', '{"combined":["apple","banana","orange"]}']],
  },
  {
    mapping: 'root = this.foo.assign(this.bar)',
    io: [['{"foo":{"first_name":"fooer","likes":"bars"},"bar":{"second_name":"barer","likes":"foos"}}', '{"first_name":"fooer","likes":"foos","second_name":"barer"}']],
  },
  {
    mapping: 'root.config = this.defaults.assign(this.user_settings)',
    io: [['{"defaults":{"timeout":30,"retries":3},"user_settings":{"timeout":60}}', '{"config":{"retries":3,"timeout":60}}']],
  },
  {
    mapping: 'root.result = this.collapse()',
    io: [['{"foo":[{"bar":"1"},{"bar":{}},{"bar":"2"},{"bar":[]}]}', '{"result":{"foo.0.bar":"1","foo.2.bar":"2"}}']],
  },
  {
    mapping: 'root.result = this.collapse(include_empty: true)',
    io: [['{"foo":[{"bar":"1"},{"bar":{}},{"bar":"2"},{"bar":[]}]}', '{"result":{"foo.0.bar":"1","foo.1.bar":{},"foo.2.bar":"2","foo.3.bar":[]}}']],
  },
  {
    mapping: 'root.foo = this.foo.concat(this.bar, this.baz)',
    io: [['{"foo":["a","b"],"bar":["c"],"baz":["d","e","f"]}', '{"foo":["a","b","c","d","e","f"]}']],
  },
  {
    mapping: 'root.has_foo = this.thing.contains("foo")',
    io: [
      ['{"thing":["this","foo","that"]}', '{"has_foo":true}'],
      ['{"thing":["this","bar","that"]}', '{"has_foo":false}'],
    ],
  },
  {
    mapping: 'root.has_bar = this.thing.contains(20)',
    io: [
      ['{"thing":[10.3,20.0,"huh",3]}', '{"has_bar":true}'],
      ['{"thing":[2,3,40,67]}', '{"has_bar":false}'],
    ],
  },
  { mapping: 'root.foo = this.foo.enumerated()', io: [['{"foo":["bar","baz"]}', '{"foo":[{"index":0,"value":"bar"},{"index":1,"value":"baz"}]}']] },
  {
    mapping: 'root.first_two = this.items.enumerated().filter(item -> item.index < 2).map_each(item -> item.value)',
    io: [['{"items":["a","b","c","d"]}', '{"first_two":["a","b"]}']],
  },
  {
    mapping: 'root = this.explode("value")',
    io: [['{"id":1,"value":["foo","bar","baz"]}', '[{"id":1,"value":"foo"},{"id":1,"value":"bar"},{"id":1,"value":"baz"}]']],
  },
  {
    mapping: 'root = this.explode("value")',
    io: [['{"id":1,"value":{"foo":2,"bar":[3,4],"baz":{"bev":5}}}', '{"bar":{"id":1,"value":[3,4]},"baz":{"id":1,"value":{"bev":5}},"foo":{"id":1,"value":2}}']],
  },
  { mapping: 'root.new_nums = this.nums.filter(num -> num > 10)', io: [['{"nums":[3,11,4,17]}', '{"new_nums":[11,17]}']] },
  {
    mapping: 'root.new_dict = this.dict.filter(item -> item.value.contains("foo"))',
    io: [['{"dict":{"first":"hello foo","second":"world","third":"this foo is great"}}', '{"new_dict":{"first":"hello foo","third":"this foo is great"}}']],
  },
  { mapping: 'root.index = this.find("bar")', io: [['["foo", "bar", "baz"]', '{"index":1}']] },
  { mapping: 'root.index = this.things.find(this.goal)', io: [['{"goal":"bar","things":["foo", "bar", "baz"]}', '{"index":1}']] },
  { mapping: 'root.index = this.find_all("bar")', io: [['["foo", "bar", "baz", "bar"]', '{"index":[1,3]}']] },
  { mapping: 'root.indexes = this.things.find_all(this.goal)', io: [['{"goal":"bar","things":["foo", "bar", "baz", "bar", "buz"]}', '{"indexes":[1,3]}']] },
  { mapping: 'root.index = this.find_all_by(v -> v != "bar")', io: [['["foo", "bar", "baz"]', '{"index":[0,2]}']] },
  { mapping: 'root.index = this.find_by(v -> v != "bar")', io: [['["foo", "bar", "baz"]', '{"index":0}']] },
  {
    mapping: 'root.first_adult = this.users.find_by(u -> u.age >= 18)',
    io: [['{"users":[{"name":"Alice","age":15},{"name":"Bob","age":22},{"name":"Carol","age":19}]}', '{"first_adult":1}']],
  },
  { mapping: 'root.result = this.flatten()', io: [['["foo",["bar","baz"],"buz"]', '{"result":["foo","bar","baz","buz"]}']] },
  { mapping: 'root.result = this.data.flatten()', io: [['{"data":["a",["b",["c","d"]],"e"]}', '{"result":["a","b",["c","d"],"e"]}']] },
  { mapping: 'root.sum = this.foo.fold(0, item -> item.tally + item.value)', io: [['{"foo":[3,8,11]}', '{"sum":22}']] },
  { mapping: 'root.result = this.foo.fold("", item -> "%v%v".format(item.tally, item.value))', io: [['{"foo":["hello ", "world"]}', '{"result":"hello world"}']] },
  {
    mapping: 'root.smoothie = this.fruits.fold({}, item -> item.tally.merge(item.value))',
    io: [['{"fruits":[{"apple":5},{"banana":3},{"orange":8}]}', '{"smoothie":{"apple":5,"banana":3,"orange":8}}']],
  },
  {
    mapping: 'root.result = this.foo.get(this.target)',
    io: [
      ['{"foo":{"bar":"from bar","baz":"from baz"},"target":"bar"}', '{"result":"from bar"}'],
      ['{"foo":{"bar":"from bar","baz":"from baz"},"target":"baz"}', '{"result":"from baz"}'],
    ],
  },
  { mapping: 'root.last_name = this.names.index(-1)', io: [['{"names":["rachel","stevens"]}', '{"last_name":"stevens"}']] },
  { mapping: 'root.last_byte = this.name.bytes().index(-1)', io: [['{"name":"foobar bazson"}', '{"last_byte":110}']] },
  {
    mapping: 'root.foo_key_values = this.foo.key_values().sort_by(pair -> pair.key)',
    io: [['{"foo":{"bar":1,"baz":2}}', '{"foo_key_values":[{"key":"bar","value":1},{"key":"baz","value":2}]}']],
  },
  {
    mapping: 'root.large_items = this.items.key_values().filter(pair -> pair.value > 15).map_each(pair -> pair.key)',
    io: [['{"items":{"a":5,"b":15,"c":20,"d":3}}', '{"large_items":["c"]}']],
  },
  { mapping: 'root.foo_keys = this.foo.keys()', io: [['{"foo":{"bar":1,"baz":2}}', '{"foo_keys":["bar","baz"]}']] },
  { mapping: 'root.has_id = this.data.keys().contains("id")', io: [['{"data":{"id":123,"name":"test"}}', '{"has_id":true}']] },
  {
    mapping: 'root.foo_len = this.foo.length()',
    io: [
      ['{"foo":["first","second"]}', '{"foo_len":2}'],
      ['{"foo":{"first":"bar","second":"baz"}}', '{"foo_len":2}'],
    ],
  },
  {
    mapping: 'root.new_nums = this.nums.map_each(num -> if num < 10 {\n  deleted()\n} else {\n  num - 10\n})',
    io: [['{"nums":[3,11,4,17]}', '{"new_nums":[1,7]}']],
  },
  { mapping: 'root.new_dict = this.dict.map_each_key(key -> key.uppercase())', io: [['{"dict":{"keya":"hello","keyb":"world"}}', '{"new_dict":{"KEYA":"hello","KEYB":"world"}}']] },
  {
    mapping: 'root = this.map_each_key(key -> if key.contains("kafka") { "_" + key })',
    io: [['{"amqp_key":"foo","kafka_key":"bar","kafka_topic":"baz"}', '{"_kafka_key":"bar","_kafka_topic":"baz","amqp_key":"foo"}']],
  },
  {
    mapping: 'root = this.foo.merge(this.bar)',
    io: [['{"foo":{"first_name":"fooer","likes":"bars"},"bar":{"second_name":"barer","likes":"foos"}}', '{"first_name":"fooer","likes":["bars","foos"],"second_name":"barer"}']],
  },
  { mapping: 'root.combined = this.list1.merge(this.list2)', io: [['{"list1":["a","b"],"list2":["c","d"]}', '{"combined":["a","b","c","d"]}']] },
  {
    mapping: 'root.beginning = this.value.slice(0, 2)\nroot.end = this.value.slice(4)',
    io: [['{"value":["foo","bar","baz","buz","bev"]}', '{"beginning":["foo","bar"],"end":["bev"]}']],
  },
  {
    mapping: 'root.last_chunk = this.value.slice(-2)\nroot.the_rest = this.value.slice(0, -2)',
    io: [['{"value":["foo","bar","baz","buz","bev"]}', '{"last_chunk":["buz","bev"],"the_rest":["foo","bar","baz"]}']],
  },
  { mapping: 'root.sorted = this.foo.sort()', io: [['{"foo":["bbb","ccc","aaa"]}', '{"sorted":["aaa","bbb","ccc"]}']] },
  {
    mapping: 'root.sorted = this.foo.sort(item -> item.left.v < item.right.v)',
    io: [['{"foo":[{"id":"foo","v":"bbb"},{"id":"bar","v":"ccc"},{"id":"baz","v":"aaa"}]}', '{"sorted":[{"id":"baz","v":"aaa"},{"id":"foo","v":"bbb"},{"id":"bar","v":"ccc"}]}']],
  },
  {
    mapping: 'root.sorted = this.foo.sort_by(ele -> ele.id)',
    io: [['{"foo":[{"id":"bbb","message":"bar"},{"id":"aaa","message":"foo"},{"id":"ccc","message":"baz"}]}', '{"sorted":[{"id":"aaa","message":"foo"},{"id":"bbb","message":"bar"},{"id":"ccc","message":"baz"}]}']],
  },
  {
    mapping: 'root.sorted = this.items.sort_by(item -> item.priority)',
    io: [['{"items":[{"name":"low","priority":3},{"name":"high","priority":1},{"name":"med","priority":2}]}', '{"sorted":[{"name":"high","priority":1},{"name":"med","priority":2},{"name":"low","priority":3}]}']],
  },
  {
    mapping: 'root.locations = this.locations.map_each(loc -> {loc.state: [loc.name]}).squash()',
    io: [
      [
        '{"locations":[{"name":"Seattle","state":"WA"},{"name":"New York","state":"NY"},{"name":"Bellevue","state":"WA"},{"name":"Olympia","state":"WA"}]}',
        '{"locations":{"NY":["New York"],"WA":["Seattle","Bellevue","Olympia"]}}',
      ],
    ],
  },
  { mapping: 'root.sum = this.foo.sum()', io: [['{"foo":[3,8,4]}', '{"sum":15}']] },
  { mapping: 'root.total = this.prices.sum()', io: [['{"prices":[10.5,20.25,5.00]}', '{"total":35.75}']] },
  { mapping: 'root.uniques = this.foo.unique()', io: [['{"foo":["a","b","a","c"]}', '{"uniques":["a","b","c"]}']] },
  {
    mapping: 'root.unique_users = this.users.unique(u -> u.id)',
    io: [['{"users":[{"id":1,"name":"Alice"},{"id":2,"name":"Bob"},{"id":1,"name":"Alice Duplicate"}]}', '{"unique_users":[{"id":1,"name":"Alice"},{"id":2,"name":"Bob"}]}']],
  },
  { mapping: 'root.foo_vals = this.foo.values().sort()', io: [['{"foo":{"bar":1,"baz":2}}', '{"foo_vals":[1,2]}']] },
  { mapping: 'root.max = this.scores.values().sort().index(-1)', io: [['{"scores":{"player1":85,"player2":92,"player3":78}}', '{"max":92}']] },
  {
    mapping: 'root = this.with("inner.a","inner.c","d")',
    io: [['{"inner":{"a":"first","b":"second","c":"third"},"d":"fourth","e":"fifth"}', '{"d":"fourth","inner":{"a":"first","c":"third"}}']],
  },
  {
    mapping: 'root = this.without("inner.a","inner.c","d")',
    io: [['{"inner":{"a":"first","b":"second","c":"third"},"d":"fourth","e":"fifth"}', '{"e":"fifth","inner":{"b":"second"}}']],
  },
  {
    mapping: 'root = this.without("password","ssn","creditCard")',
    io: [['{"username":"alice","password":"secret","email":"alice@example.com","ssn":"123-45-6789"}', '{"email":"alice@example.com","username":"alice"}']],
  },
  { mapping: 'root.foo = this.foo.zip(this.bar, this.baz)', io: [['{"foo":["a","b","c"],"bar":[1,2,3],"baz":[4,5,6]}', '{"foo":[["a",1,4],["b",2,5],["c",3,6]]}']] },
  { mapping: 'root.doc.id = this.thing.id.or(uuid_v4())', io: [['{"thing":{"id":"x"}}', '{"doc":{"id":"x"}}']] },
  // Type coercion
  { mapping: 'root.my_array = this.name.array()', io: [['{"name":"foobar bazson"}', '{"my_array":["foobar bazson"]}']] },
  { mapping: 'root.first_byte = this.name.bytes().index(0)', io: [['{"name":"foobar bazson"}', '{"first_byte":102}']] },
  {
    mapping: 'root.a = this.a.not_empty()',
    io: [
      ['{"a":"foo"}', '{"a":"foo"}'],
      ['{"a":""}', 'Error("failed assignment (line 1): field `this.a`: string value is empty")'],
      ['{"a":["foo","bar"]}', '{"a":["foo","bar"]}'],
      ['{"a":[]}', 'Error("failed assignment (line 1): field `this.a`: array value is empty")'],
      ['{"a":{"b":"foo","c":"bar"}}', '{"a":{"b":"foo","c":"bar"}}'],
      ['{"a":{}}', 'Error("failed assignment (line 1): field `this.a`: object value is empty")'],
    ],
  },
  {
    mapping: 'root.a = this.a.not_null()',
    io: [
      ['{"a":"foobar","b":"barbaz"}', '{"a":"foobar"}'],
      ['{"b":"barbaz"}', 'Error("failed assignment (line 1): field `this.a`: value is null")'],
    ],
  },
  { mapping: 'root.nested_json = this.string()', io: [['{"foo":"bar"}', '{"nested_json":"{\\"foo\\":\\"bar\\"}"}']] },
  { mapping: 'root.id = this.id.string()', io: [['{"id":228930314431312345}', '{"id":"228930314431312345"}']] },
  {
    mapping: 'root.bar_type = this.bar.type()\nroot.foo_type = this.foo.type()',
    io: [['{"bar":10,"foo":"is a string"}', '{"bar_type":"number","foo_type":"string"}']],
  },
  {
    mapping: 'root.type = this.type()',
    io: [
      ['"foobar"', '{"type":"string"}'],
      ['666', '{"type":"number"}'],
      ['false', '{"type":"bool"}'],
      ['["foo", "bar"]', '{"type":"array"}'],
      ['{"foo": "bar"}', '{"type":"object"}'],
      ['null', '{"type":"null"}'],
    ],
  },
  { mapping: 'root.type = content().type()', io: [['foobar', '{"type":"bytes"}']] },
  { mapping: 'root.type = this.ts_parse("2006-01-02").type()', io: [['"2022-06-06"', '{"type":"timestamp"}']] },
  {
    mapping: 'root.a = this.a.bool()\nroot.b = this.b.bool(true)\nroot.c = this.c.number(5) * 10\nroot.d = this.d.number() + 10',
    io: [['{"a":"true","b":"nope","c":"x","d":"2.5"}', '{"a":true,"b":true,"c":50,"d":12.5}']],
  },
  { mapping: 'root.foo = this.ts.timestamp()\nroot.bar = this.none.timestamp(1234567890.timestamp())', io: [['{"ts":"2020-01-02T03:04:05Z"}', '{"bar":"2009-02-13T23:31:30Z","foo":"2020-01-02T03:04:05Z"}']] },
];

for (const c of cases) {
  test(`objects: ${c.mapping}`, () => {
    for (const [input, output] of c.io) assert.equal(run(c.mapping, input), output, `input: ${input}`);
  });
}

test('objects: methods do not mutate their inputs', () => {
  assert.equal(
    run('root.a = this.x.append(3)\nroot.b = this.x\nroot.c = this.o.merge({"k":2})\nroot.d = this.o', '{"x":[1,2],"o":{"k":1}}'),
    '{"a":[1,2,3],"b":[1,2],"c":{"k":[1,2]},"d":{"k":1}}',
  );
});

test('objects: sort errors on mixed types', () => {
  assert.match(run('root = this.sort()', '[1,"a"]'), /^Error\("failed assignment \(line 1\): sort element \d: expected (number|string) value, got/);
});
