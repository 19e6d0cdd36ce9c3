import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locateJsonError, parseJson } from './json.js';

test('valid JSON parses', () => {
  assert.deepEqual(parseJson('{"a":[1,2,{"b":null}]}'), { ok: true, value: { a: [1, 2, { b: null }] } });
});

test('the first error is located by line, column and position', () => {
  assert.deepEqual(parseJson('{"a":1,}'), { ok: false, line: 1, column: 8, position: 7, message: 'expected a property name in double quotes, found "}"' });
  const r = parseJson('{\n  "rate": 10\n  "per": 1\n}');
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && [r.line, r.column, r.message], [3, 3, "expected ',' or '}', found \"\\\"\""]);
});

test('many kinds of mistakes', () => {
  assert.equal(locateJsonError('').message, 'unexpected end of input');
  assert.equal(locateJsonError('{"a": tru}').position, 6);
  assert.equal(locateJsonError('["x\ny"]').message, 'control character in a string (escape it)');
  assert.equal(locateJsonError('{"a":1} x').message, 'unexpected "x" after the JSON value');
  assert.equal(locateJsonError('{"a":"\\q"}').message, 'bad escape');
  assert.equal(locateJsonError('[01]').position, 2);
  assert.equal(locateJsonError("{'a':1}").position, 1);
  assert.equal(locateJsonError('"abc').message, 'unterminated string');
  assert.equal(locateJsonError('['.repeat(600)).message, 'nested too deeply');
});
