import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { xmlToJson, castValue } from './convert.js';
import { spec } from './index.js';
import type { ComponentContext, Processor } from '../../../engine/component.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import { silentLogger } from '../../../engine/logger.js';
import { Message } from '../../../engine/message.js';

const DOC_EXAMPLE = `<root>
  <title>This is a title</title>
  <description tone="boring">This is a description</description>
  <elements id="1">foo1</elements>
  <elements id="2">foo2</elements>
  <elements>foo3</elements>
</root>`;

const ctx = { logger: silentLogger, bloblang: noBloblang, path: 'pipeline.processors.0.xml' } as ComponentContext;

describe('xml to_json (Benthos/mxj rules)', () => {
  test('the documentation example', () => {
    assert.deepEqual(xmlToJson(DOC_EXAMPLE), {
      root: {
        title: 'This is a title',
        description: { '#text': 'This is a description', '-tone': 'boring' },
        elements: [{ '#text': 'foo1', '-id': '1' }, { '#text': 'foo2', '-id': '2' }, 'foo3'],
      },
    });
  });

  test('the documentation example with cast: attributes and text become numbers and booleans', () => {
    assert.deepEqual(xmlToJson(DOC_EXAMPLE, true), {
      root: {
        title: 'This is a title',
        description: { '#text': 'This is a description', '-tone': 'boring' },
        elements: [{ '#text': 'foo1', '-id': 1 }, { '#text': 'foo2', '-id': 2 }, 'foo3'],
      },
    });
    assert.deepEqual(xmlToJson('<a><n>1.5e3</n><b>true</b><c>F</c><z>0</z><s>007x</s><nan>NaN</nan><inf>-Inf</inf></a>', true), {
      a: { b: true, c: false, inf: '-Inf', n: 1500, nan: 'NaN', s: '007x', z: 0 },
    });
  });

  test('keys are sorted as Go marshals maps', () => {
    assert.equal(JSON.stringify(xmlToJson(DOC_EXAMPLE)), '{"root":{"description":{"#text":"This is a description","-tone":"boring"},"elements":[{"#text":"foo1","-id":"1"},{"#text":"foo2","-id":"2"},"foo3"],"title":"This is a title"}}');
  });

  test('empty elements, attribute-only elements, nesting, mixed text', () => {
    assert.deepEqual(xmlToJson('<a><e/><f></f><g k="v"/><h>  </h></a>'), { a: { e: '', f: '', g: { '-k': 'v' }, h: '' } });
    assert.deepEqual(xmlToJson('<a>text<b>x</b></a>'), { a: { '#text': 'text', b: 'x' } });
    assert.deepEqual(xmlToJson('<a><b><c><d>deep</d></c></b></a>'), { a: { b: { c: { d: 'deep' } } } });
  });

  test('comments, declarations, processing instructions and doctypes are dropped; entities and CDATA decoded', () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE a><!-- c --><a><?pi x?><!-- inner --><t>x &amp; y &lt;&#65;&gt;</t><d><![CDATA[<raw>]]></d></a>';
    assert.deepEqual(xmlToJson(xml), { a: { d: '<raw>', t: 'x & y <A>' } });
  });

  test('namespace prefixes of elements are dropped, xmlns attributes kept', () => {
    assert.deepEqual(xmlToJson('<s:Envelope xmlns:s="urn:x"><s:Body a:id="7">v</s:Body></s:Envelope>'), {
      Envelope: { '-xmlns:s': 'urn:x', Body: { '#text': 'v', '-id': '7' } },
    });
  });

  test('malformed XML is an error with the position', () => {
    assert.throws(() => xmlToJson('<a><b></a>'), /invalid XML: .*line 1/);
    assert.throws(() => xmlToJson('not xml'), /invalid XML/);
    assert.throws(() => xmlToJson(''), /invalid XML/);
  });

  test('castValue follows Go ParseFloat then ParseBool', () => {
    assert.equal(castValue('42'), 42);
    assert.equal(castValue('-0.5'), -0.5);
    assert.equal(castValue('.5'), 0.5);
    assert.equal(castValue('1e3'), 1000);
    assert.equal(castValue('T'), true);
    assert.equal(castValue('False'), false);
    assert.equal(castValue('yes'), 'yes');
    assert.equal(castValue('inf'), 'inf');
    assert.equal(castValue('0x10'), '0x10');
    assert.equal(castValue(''), '');
  });
});

describe('xml processor', () => {
  test('replaces content with JSON; invalid XML flags the message and keeps it', async () => {
    const p = (await spec.build({ operator: 'to_json', cast: false }, ctx)) as Processor;
    const good = new Message('<a x="1">v</a>');
    const bad = new Message('<a>');
    const out = (await p.process([good, bad]))[0]!;
    assert.equal(out[0]!.text(), '{"a":{"#text":"v","-x":"1"}}');
    assert.deepEqual(out[0]!.structured(), { a: { '#text': 'v', '-x': '1' } });
    assert.equal(out[1]!.text(), '<a>');
    assert.match(out[1]!.error!.message, /invalid XML/);
    assert.equal(out[1]!.errorSource, 'pipeline.processors.0.xml');
  });

  test('operator "" means to_json (Benthos default); others are refused', async () => {
    const p = (await spec.build({ operator: '', cast: true }, ctx)) as Processor;
    assert.deepEqual((await p.process([new Message('<n>3</n>')]))[0]![0]!.structured(), { n: 3 });
    assert.throws(() => spec.build({ operator: 'from_json', cast: false }, ctx), /not supported/);
  });
});
