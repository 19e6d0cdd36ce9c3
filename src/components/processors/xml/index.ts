/**
 * `xml` processor: `to_json` parses each message as XML and replaces it with the JSON form
 * (see convert.ts for the rules, Benthos'). A message that is not XML passes on unchanged and
 * flagged.
 */
import { defineProcessor } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { xmlToJson } from './convert.js';

export interface XmlConfig {
  operator: string;
  cast: boolean;
}

export const spec = defineProcessor<XmlConfig>({
  name: 'xml',
  summary: 'Parses messages as XML documents and replaces them with their JSON form.',
  description:
    '`to_json` rules: attributes become keys prefixed with `-`; the text of an element that has attributes (or children) is under `#text`; repeated elements become arrays; comments, directives and processing instructions are dropped. ' +
    'Values are strings unless `cast` is true (numbers and booleans are then converted). ' +
    'For example `<root><title>A title</title><e id="1">foo1</e><e id="2">foo2</e><e>foo3</e></root>` becomes `{"root":{"e":[{"#text":"foo1","-id":"1"},{"#text":"foo2","-id":"2"},"foo3"],"title":"A title"}}`. ' +
    'To go from JSON to XML use the Bloblang method `format_xml`.',
  categories: ['Parsing'],
  status: 'beta',
  config: field.object('', '', [
    field.string('operator', 'The operation: `to_json` (the only one; an empty value means it too).', { default: '', options: ['to_json'] }),
    field.bool('cast', 'Convert numeric and boolean values (e.g. "1.5" → 1.5, "true" → true) instead of keeping strings.', { default: false }),
  ]),
  build: (conf, ctx) => {
    if (conf.operator !== '' && conf.operator !== 'to_json') throw new Error(`xml operator ${JSON.stringify(conf.operator)} is not supported; use to_json`);
    const cast = conf.cast;
    return {
      process(batch) {
        for (const m of batch) {
          try {
            m.setStructured(xmlToJson(m.text(), cast));
          } catch (err) {
            m.setError(err, ctx.path);
          }
        }
        return [batch];
      },
    };
  },
});
