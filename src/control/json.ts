/**
 * JSON bodies with a useful error: when `JSON.parse` fails, a small scanner finds where, so the
 * client hears "line 3, column 14 (position 41): expected ',' or '}'" instead of a stack trace.
 */

export type JsonParse =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly line: number; readonly column: number; readonly position: number; readonly message: string };

export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    const { position, message } = locateJsonError(text);
    let line = 1;
    let col = 1;
    for (let i = 0; i < position && i < text.length; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        col = 1;
      } else col++;
    }
    return { ok: false, line, column: col, position, message };
  }
}

class Fail {
  constructor(
    readonly position: number,
    readonly message: string,
  ) {}
}

/** The offset (0-based) and nature of the first syntax error in `text`. */
export function locateJsonError(text: string): { position: number; message: string } {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const show = (c: string | undefined) => (c === undefined ? 'end of input' : JSON.stringify(c));
  const value = (depth: number): void => {
    if (depth > 512) throw new Fail(i, 'nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new Fail(i, `expected a property name in double quotes, found ${show(text[i])}`);
        string();
        ws();
        if (text[i] !== ':') throw new Fail(i, `expected ':' after the property name, found ${show(text[i])}`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        throw new Fail(i, `expected ',' or '}', found ${show(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        throw new Fail(i, `expected ',' or ']', found ${show(text[i])}`);
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    throw new Fail(i, c === undefined ? 'unexpected end of input' : `unexpected ${show(c)}`);
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= n) throw new Fail(i, 'unterminated string');
      const ch = text.charCodeAt(i);
      if (ch === 34) {
        i++;
        return;
      }
      if (ch < 32) throw new Fail(i, 'control character in a string (escape it)');
      if (ch === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Fail(i, 'bad \\u escape');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new Fail(i, 'bad escape');
        i += 2;
        continue;
      }
      i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-') throw new Fail(i, 'bad number');
    i += m[0].length;
  };
  try {
    value(0);
    ws();
    if (i < n) return { position: i, message: `unexpected ${show(text[i])} after the JSON value` };
    return { position: n, message: 'invalid JSON' };
  } catch (e) {
    if (e instanceof Fail) return { position: e.position, message: e.message };
    throw e;
  }
}
