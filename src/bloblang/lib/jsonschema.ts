/**
 * JSON Schema validation for the `json_schema` method (draft 4 – 7 keywords), reporting errors
 * the way Benthos formats those of its Go validator: one line per error, `<field> <description>`
 * with the field as a dot path (`(root)` for the document itself) and the description in lower
 * case, e.g. `foo invalid type. expected: string, given: integer`.
 *
 * Supported: type, enum, const, properties, required, additionalProperties, patternProperties,
 * propertyNames, min/maxProperties, dependencies, items (schema or tuple), additionalItems,
 * min/maxItems, uniqueItems, contains, min/maxLength, pattern, minimum, maximum, exclusive
 * bounds (boolean and numeric forms), multipleOf, allOf, anyOf, oneOf, not, if/then/else and
 * local `$ref`s (`#`, `#/definitions/…`, `#/$defs/…`). `format` and remote references are ignored.
 */
import { valuesEqual } from '../core.js';
import { goJSONParse, goJSONStringify } from '../json.js';
import { F64, compareStrings, isNumber, isObject, numValue, type BObject } from '../value.js';
import { GoRegexp } from './regex.js';

interface SchemaError {
  field: string;
  description: string;
  property?: string;
}

export class JSONSchema {
  readonly root: unknown;

  constructor(src: string) {
    let parsed: unknown;
    try {
      parsed = goJSONParse(src);
    } catch (e) {
      throw new Error(`failed to parse json schema definition: ${(e as Error).message}`);
    }
    if (!isObject(parsed) && typeof parsed !== 'boolean') {
      throw new Error('failed to parse json schema definition: schema must be an object');
    }
    this.root = parsed;
  }

  /** Returns null when valid, otherwise the error text. */
  validate(v: unknown): string | null {
    const errs: SchemaError[] = [];
    this.check(this.root, v, [], errs, 0);
    if (errs.length === 0) return null;
    return errs
      .map((e) => {
        let d = e.description.toLowerCase();
        if (e.property !== undefined) {
          const lp = e.property.toLowerCase();
          d = e.property + (d.startsWith(lp) ? d.slice(lp.length) : d);
        }
        return `${e.field} ${d}`;
      })
      .join('\n');
  }

  private resolve(ref: string): unknown {
    if (ref === '#') return this.root;
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    let cur: unknown = this.root;
    for (const raw of ref.slice(2).split('/')) {
      const seg = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (isObject(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
      else if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
      else throw new Error(`unresolvable $ref ${ref}`);
    }
    return cur;
  }

  private check(schema: unknown, v: unknown, path: string[], errs: SchemaError[], depth: number): void {
    if (depth > 200) throw new Error('json schema recursion too deep');
    if (schema === true) return;
    const field = path.length === 0 ? '(root)' : path.join('.');
    if (schema === false) {
      errs.push({ field, description: 'False always fails validation' });
      return;
    }
    if (!isObject(schema)) return;
    const s = schema as BObject;
    if (typeof s['$ref'] === 'string') {
      this.check(this.resolve(s['$ref']), v, path, errs, depth + 1);
      return;
    }
    const t = typeOf(v);
    if (s['type'] !== undefined) {
      const types = Array.isArray(s['type']) ? (s['type'] as unknown[]).map(String) : [String(s['type'])];
      const ok = types.some((ty) => ty === t || (ty === 'number' && t === 'integer'));
      if (!ok) {
        errs.push({ field, description: `Invalid type. Expected: ${types.join(', ')}, given: ${t}` });
        return;
      }
    }
    if (Array.isArray(s['enum']) && !(s['enum'] as unknown[]).some((e) => same(e, v))) {
      const allowed = (s['enum'] as unknown[]).map((e) => goJSONStringify(e)).join(', ');
      errs.push({ field, description: `${field} must be one of the following: ${allowed}` });
    }
    if ('const' in s && !same(s['const'], v)) {
      errs.push({ field, description: `${field} does not match: ${goJSONStringify(s['const'])}` });
    }

    // Sub-schema combinators.
    if (Array.isArray(s['allOf'])) {
      let failed = false;
      for (const sub of s['allOf'] as unknown[]) {
        const e: SchemaError[] = [];
        this.check(sub, v, path, e, depth + 1);
        if (e.length > 0) {
          failed = true;
          errs.push(...e);
        }
      }
      if (failed) errs.push({ field, description: 'Must validate all the schemas (allOf)' });
    }
    if (Array.isArray(s['anyOf'])) {
      let best: SchemaError[] | null = null;
      let ok = false;
      for (const sub of s['anyOf'] as unknown[]) {
        const e: SchemaError[] = [];
        this.check(sub, v, path, e, depth + 1);
        if (e.length === 0) {
          ok = true;
          break;
        }
        if (best === null || e.length < best.length) best = e;
      }
      if (!ok) {
        errs.push({ field, description: 'Must validate at least one schema (anyOf)' });
        if (best) errs.push(...best);
      }
    }
    if (Array.isArray(s['oneOf'])) {
      let passed = 0;
      let best: SchemaError[] | null = null;
      for (const sub of s['oneOf'] as unknown[]) {
        const e: SchemaError[] = [];
        this.check(sub, v, path, e, depth + 1);
        if (e.length === 0) passed++;
        else if (best === null || e.length < best.length) best = e;
      }
      if (passed !== 1) {
        errs.push({ field, description: 'Must validate one and only one schema (oneOf)' });
        if (passed === 0 && best) errs.push(...best);
      }
    }
    if ('not' in s) {
      const e: SchemaError[] = [];
      this.check(s['not'], v, path, e, depth + 1);
      if (e.length === 0) errs.push({ field, description: 'Must not validate the schema (not)' });
    }
    if ('if' in s) {
      const e: SchemaError[] = [];
      this.check(s['if'], v, path, e, depth + 1);
      if (e.length === 0 && 'then' in s) {
        const te: SchemaError[] = [];
        this.check(s['then'], v, path, te, depth + 1);
        if (te.length > 0) errs.push(...te, { field, description: 'Must validate "then" as "if" was valid' });
      } else if (e.length > 0 && 'else' in s) {
        const ee: SchemaError[] = [];
        this.check(s['else'], v, path, ee, depth + 1);
        if (ee.length > 0) errs.push(...ee, { field, description: 'Must validate "else" as "if" was not valid' });
      }
    }

    if (t === 'object') this.checkObject(s, v as BObject, path, field, errs, depth);
    else if (t === 'array') this.checkArray(s, v as unknown[], path, field, errs, depth);
    else if (t === 'string') checkString(s, v as string, field, errs);
    else if (t === 'integer' || t === 'number') checkNumber(s, numValue(v as number), field, errs);
  }

  private checkObject(s: BObject, v: BObject, path: string[], field: string, errs: SchemaError[], depth: number): void {
    const keys = Object.keys(v).sort(compareStrings);
    if (typeof s['maxProperties'] === 'number' && keys.length > s['maxProperties']) {
      errs.push({ field, description: `Must have at most ${s['maxProperties']} properties` });
    }
    if (isNumber(s['minProperties']) && keys.length < numValue(s['minProperties'])) {
      errs.push({ field, description: `Must have at least ${numValue(s['minProperties'])} properties` });
    }
    if (Array.isArray(s['required'])) {
      for (const r of s['required'] as unknown[]) {
        const name = String(r);
        if (!Object.hasOwn(v, name)) errs.push({ field, description: `${name} is required`, property: name });
      }
    }
    const props = isObject(s['properties']) ? (s['properties'] as BObject) : {};
    const patterns = isObject(s['patternProperties'])
      ? Object.entries(s['patternProperties'] as BObject).map(([p, sub]) => [new GoRegexp(p), sub] as const)
      : [];
    for (const k of keys) {
      let matched = false;
      if (Object.hasOwn(props, k)) {
        matched = true;
        this.check(props[k], v[k], [...path, k], errs, depth + 1);
      }
      for (const [re, sub] of patterns) {
        if (re.find(k) !== null) {
          matched = true;
          this.check(sub, v[k], [...path, k], errs, depth + 1);
        }
      }
      if (!matched && 'additionalProperties' in s) {
        const ap = s['additionalProperties'];
        if (ap === false) errs.push({ field, description: `Additional property ${k} is not allowed`, property: k });
        else this.check(ap, v[k], [...path, k], errs, depth + 1);
      }
      if ('propertyNames' in s) {
        const e: SchemaError[] = [];
        this.check(s['propertyNames'], k, path, e, depth + 1);
        if (e.length > 0) errs.push({ field, description: `Property "${k}" does not match pattern`, property: k });
      }
    }
    if (isObject(s['dependencies'])) {
      for (const [k, dep] of Object.entries(s['dependencies'] as BObject)) {
        if (!Object.hasOwn(v, k)) continue;
        if (Array.isArray(dep)) {
          for (const d of dep) {
            if (!Object.hasOwn(v, String(d))) {
              errs.push({ field, description: `Has a dependency on ${String(d)}`, property: String(d) });
            }
          }
        } else this.check(dep, v, path, errs, depth + 1);
      }
    }
  }

  private checkArray(s: BObject, v: unknown[], path: string[], field: string, errs: SchemaError[], depth: number): void {
    if (isNumber(s['minItems']) && v.length < numValue(s['minItems'])) {
      errs.push({ field, description: `Array must have at least ${numValue(s['minItems'])} items` });
    }
    if (isNumber(s['maxItems']) && v.length > numValue(s['maxItems'])) {
      errs.push({ field, description: `Array must have at most ${numValue(s['maxItems'])} items` });
    }
    if (s['uniqueItems'] === true) {
      outer: for (let i = 0; i < v.length; i++) {
        for (let j = i + 1; j < v.length; j++) {
          if (same(v[i], v[j])) {
            errs.push({ field, description: `array items[${i},${j}] must be unique` });
            break outer;
          }
        }
      }
    }
    const items = s['items'];
    if (Array.isArray(items)) {
      v.forEach((el, i) => {
        if (i < items.length) this.check(items[i], el, [...path, String(i)], errs, depth + 1);
        else if (s['additionalItems'] === false) {
          if (i === items.length) errs.push({ field, description: 'No additional items allowed on array' });
        } else if ('additionalItems' in s) this.check(s['additionalItems'], el, [...path, String(i)], errs, depth + 1);
      });
    } else if (items !== undefined) {
      v.forEach((el, i) => this.check(items, el, [...path, String(i)], errs, depth + 1));
    }
    if ('contains' in s) {
      const ok = v.some((el) => {
        const e: SchemaError[] = [];
        this.check(s['contains'], el, path, e, depth + 1);
        return e.length === 0;
      });
      if (!ok) errs.push({ field, description: 'At least one of the items must match' });
    }
  }
}

function checkString(s: BObject, v: string, field: string, errs: SchemaError[]): void {
  const len = [...v].length;
  if (isNumber(s['minLength']) && len < numValue(s['minLength'])) {
    errs.push({ field, description: `String length must be greater than or equal to ${numValue(s['minLength'])}` });
  }
  if (isNumber(s['maxLength']) && len > numValue(s['maxLength'])) {
    errs.push({ field, description: `String length must be less than or equal to ${numValue(s['maxLength'])}` });
  }
  if (typeof s['pattern'] === 'string' && new GoRegexp(s['pattern']).find(v) === null) {
    errs.push({ field, description: `Does not match pattern '${s['pattern']}'` });
  }
}

function checkNumber(s: BObject, n: number, field: string, errs: SchemaError[]): void {
  const fmt = (x: unknown): string => goJSONStringify(x);
  if (isNumber(s['multipleOf'])) {
    const m = numValue(s['multipleOf']);
    const q = n / m;
    if (Math.abs(q - Math.round(q)) > 1e-9) errs.push({ field, description: `Must be a multiple of ${fmt(s['multipleOf'])}` });
  }
  if (isNumber(s['minimum'])) {
    const min = numValue(s['minimum']);
    if (s['exclusiveMinimum'] === true ? n <= min : n < min) {
      errs.push({
        field,
        description: s['exclusiveMinimum'] === true ? `Must be greater than ${fmt(s['minimum'])}` : `Must be greater than or equal to ${fmt(s['minimum'])}`,
      });
    }
  }
  if (isNumber(s['exclusiveMinimum']) && n <= numValue(s['exclusiveMinimum'])) {
    errs.push({ field, description: `Must be greater than ${fmt(s['exclusiveMinimum'])}` });
  }
  if (isNumber(s['maximum'])) {
    const max = numValue(s['maximum']);
    if (s['exclusiveMaximum'] === true ? n >= max : n > max) {
      errs.push({
        field,
        description: s['exclusiveMaximum'] === true ? `Must be less than ${fmt(s['maximum'])}` : `Must be less than or equal to ${fmt(s['maximum'])}`,
      });
    }
  }
  if (isNumber(s['exclusiveMaximum']) && n >= numValue(s['exclusiveMaximum'])) {
    errs.push({ field, description: `Must be less than ${fmt(s['exclusiveMaximum'])}` });
  }
}

function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  if (v instanceof Uint8Array) return 'string';
  if (typeof v === 'bigint') return 'integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (v instanceof F64) return Number.isInteger(v.v) ? 'integer' : 'number';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function same(a: unknown, b: unknown): boolean {
  if (isNumber(a) && isNumber(b)) return numValue(a) === numValue(b);
  return valuesEqual(a, b);
}
