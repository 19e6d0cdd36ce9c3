import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseError, run, runCli } from './testing.js';
import { BloblangParseError, parseMapping } from './parser.js';
import { createBloblangEnvironment, BloblangSyntaxError } from './index.js';

// Parse errors: positions and wording follow Benthos' parser.
const parseCases: Array<[mapping: string, error: string]> = [
  ['let foo+bar = baz', 'line 1 char 8: expected whitespace'],
  ['meta foo+bar = baz', 'line 1 char 9: expected ='],
  ['', 'line 1 char 1: expected import, map, or assignment'],
  ['\n   ', 'line 2 char 4: expected import, map, or assignment'],
  ['# foobar', 'line 1 char 1: expected import, map, or assignment'],
  ['foo = bar bar = baz', 'line 1 char 11: expected line break'],
  ['\n\nfoo = bar bar = baz\n\n', 'line 3 char 11: expected line break'],
  ['let a = "a"\nfoo = bar bar = baz', 'line 2 char 11: expected line break'],
  ['foo wat bar', 'line 1 char 5: expected ='],
  [
    '!foo = bar',
    'line 1 char 6: expected the mapping to end here as the beginning is shorthand for `root = !foo`, but this shorthand form cannot be followed with more assignments',
  ],
  [
    'content().uppercase().lowercase()\nmeta foo = "bar"',
    'line 2 char 1: expected the mapping to end here as the beginning is shorthand for `root = content().up...`, but this shorthand form cannot be followed with more assignments',
  ],
  ['let foo = bar\n!foo = bar', 'line 2 char 1: expected import, map, or assignment'],
  ['foo = blah.', 'line 1 char 12: required: expected method or field path'],
  ['let = blah', 'line 1 char 5: required: expected variable name'],
  ['map foo {\n  foo = bar\n}\nmap foo {\n  foo = bar\n}\nfoo = bar.apply("foo")', 'line 4 char 1: map name collision: foo'],
  ['map foo {\n  meta foo = "bar"\n}\nfoo = bar.apply("foo")', 'line 2 char 3: setting meta fields is not allowed within this block'],
  ['map {\n  foo = bar\n}\nfoo = bar.apply("foo")', 'line 1 char 5: required: expected map name'],
  [
    '\n"root.something" = 5 + 2',
    'line 2 char 18: expected the mapping to end here as the beginning is shorthand for `root = "root.someth...`, but this shorthand form cannot be followed with more assignments',
  ],
  ['root = this.foo(', 'line 1 char 17: required: expected function argument'],
  ['root = nope()', "line 1 char 14: unrecognised function 'nope'"],
  ['root = this.nope()', "line 1 char 19: unrecognised method 'nope'"],
  ['root = "foo".slice("a")', 'line 1 char 24: field low: expected number value, got string ("a")'],
  ['root = range(1)', 'line 1 char 16: missing parameter: stop'],
  ['root = range(start: 1, stap: 3)', 'line 1 char 32: unknown parameter stap, did you mean stop?'],
  ['root = range(1, stop: 3)', 'line 1 char 25: cannot mix named and nameless arguments'],
  ['root = "a" + 5', 'line 1 char 8: cannot add types string (from string literal) and number (from number literal)'],
  ['root = "foo', 'line 1 char 12: required: expected end quote'],
  ['root = this.foo(1 2)', 'line 1 char 19: required: expected comma or closing bracket'],
  ['root = [1, 2', 'line 1 char 13: expected query'],
  ['root = 5 # no line break', 'line 1 char 25: expected line break'],
];

for (const [mapping, err] of parseCases) {
  test(`parse error: ${JSON.stringify(mapping)}`, () => {
    assert.equal(parseError(mapping), err);
  });
}

test('parse error: structured snippet with caret', () => {
  try {
    parseMapping('root.foo = this.bar\nroot.baz = this.').toString();
    assert.fail('expected a parse error');
  } catch (e) {
    assert.ok(e instanceof BloblangParseError);
    assert.equal(
      e.structured(),
      'line 2 char 17: required: expected method or field path\n  |\n2 | root.baz = this.\n  |                 ^---',
    );
  }
});

test('parse error: environment throws errors with line, column and caret', () => {
  const env = createBloblangEnvironment();
  assert.throws(
    () => env.compileMapping('root = this.foo.uppercase(\n'),
    (e: unknown) => e instanceof BloblangSyntaxError && e.line === 2 && /\^---/.test(e.message) && /line 2 char 1/.test(e.message),
  );
  assert.throws(() => env.interpolate('${! this.foo.( }'), (e: unknown) => e instanceof BloblangSyntaxError && /char/.test(e.message));
});

test('imports: maps from files, from files, errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'blobl-'));
  const good = join(dir, 'good.blobl');
  const direct = join(dir, 'direct.blobl');
  const bad = join(dir, 'bad.blobl');
  const noMaps = join(dir, 'nomaps.blobl');
  writeFileSync(good, 'map foo {\n  foo = "this is valid"\n  nested = this\n}');
  writeFileSync(direct, 'root.nested = this');
  writeFileSync(bad, 'not a map bruh');
  writeFileSync(noMaps, 'foo = "this is valid but has no maps"');
  assert.equal(
    run(`import "${good}"\n\nroot = this.apply("foo")`, '{"outer":{"inner":"hello world"}}'),
    '{"foo":"this is valid","nested":{"outer":{"inner":"hello world"}}}',
  );
  assert.equal(run(`from "${direct}"`, '{"inner":"hello world"}'), '{"nested":{"inner":"hello world"}}');
  assert.equal(parseError(`import "${bad}"\n\nfoo = bar.apply("from_import")`), `line 1 char 1: failed to parse import '${bad}': line 1 char 5: expected =`);
  assert.equal(parseError(`from "${bad}"`), `line 1 char 1: failed to parse import '${bad}': line 1 char 5: expected =`);
  assert.equal(parseError(`import "${noMaps}"\n\nfoo = bar.apply("from_import")`), `line 1 char 1: no maps to import from '${noMaps}'`);
  assert.equal(
    parseError(`map "foo" { this = that }\n\nimport "${good}"\n\nfoo = bar.apply("foo")`),
    `line 3 char 1: map name collisions from import '${good}': [foo]`,
  );
  assert.equal(
    parseError(`from "${good}"\nroot.foo = "not allowed"`),
    'line 1 char 1: unexpected content after single root import: root.foo = "not allowed"',
  );
  assert.match(parseError('import "this file doesn\'t exist (I hope)"\n\nfoo = bar.apply("from_import")'), /no such file or directory/);
  // Relative imports resolve against the importer's base directory.
  const env = createBloblangEnvironment({ importBaseDir: dir });
  const m = env.compileMapping('import "good.blobl"\nroot = this.apply("foo")');
  assert.ok(m);
});

// Runtime errors: wording of common failures.
const runtimeCases: Array<[mapping: string, input: string, error: string]> = [
  ['root.a = this.a.not_empty()', '{"a":""}', 'failed assignment (line 1): field `this.a`: string value is empty'],
  ['root.a = this.a.not_null()', '{"b":1}', 'failed assignment (line 1): field `this.a`: value is null'],
  ['root = this.foo.number()', '{"foo":"abc"}', 'failed assignment (line 1): field `this.foo`: strconv.ParseFloat: parsing "abc": invalid syntax'],
  ['root = this.a * 2', '{"a":"abc"}', 'failed assignment (line 1): cannot multiply types string (from field `this.a`) and number (from number literal)'],
  ['root = this.a > 2', '{"a":true}', 'failed assignment (line 1): cannot compare types bool (from field `this.a`) and number (from number literal)'],
  ['root = this.a && true', '{"a":"x"}', 'failed assignment (line 1): expected bool value, got string ("x")'],
  ['root = !this.a', '{"a":"x"}', 'failed assignment (line 1): expected bool value, got string from field `this.a` ("x")'],
  ['root = this.a.index(5)', '{"a":[1]}', "failed assignment (line 1): field `this.a`: index '5' was out of bounds for array size: 1"],
  ['root = this.a.map_each(x -> x.uppercase())', '{"a":[1]}', 'failed assignment (line 1): field `this.a`: failed to process element 0: expected string value, got number from field `x` (1)'],
  ['root = this.a.apply("nope")', '{"a":1}', 'failed assignment (line 1): map nope was not found'],
  ['root.a.b = 1\nroot.a.b.c = 2', '{}', 'failed assignment (line 2): unable to set target path a.b.c as the value of a.b was a non-object type (number)'],
  ['root = 5\nroot.a = 1', '{}', 'failed assignment (line 2): unable to set target path a as the value of the root was a non-object type (number)'],
  ['meta = 5', '{}', 'failed assignment (line 1): setting root meta object requires object value, received: int64'],
  ['if this.a { root = 1 }', '{"a":"x"}', 'failed assignment (line 1): field `this.a` resolved to a non-boolean value x (string)'],
  ['root = match this.a { this > 1 => "big" }.uppercase()', '{"a":"x"}', 'failed assignment (line 1): failed to check match case 0: cannot compare types string (from field `this`) and number (from number literal)'],
];

for (const [mapping, input, err] of runtimeCases) {
  test(`runtime error: ${mapping}`, () => {
    assert.equal(run(mapping, input), `Error(${JSON.stringify(err)})`);
  });
}

test('runtime error: blobl CLI style errors', () => {
  assert.equal(runCli('root = this.a.uppercase()', '{"a":1}'), 'Error("failed assignment (line 1): expected string value, got number from field `this.a` (1)")');
  assert.equal(runCli('root = this.a', ''), 'Error("unable to reference message as structured (with \'this.a\'): message is empty")');
  assert.equal(runCli('root = this', '{"a":1'), 'Error("unable to reference message as structured (with \'this\'): parse as json: unexpected EOF")');
});
