/**
 * A reader for the Alloy configuration syntax (the River/HCL-like language of config.alloy), enough to check
 * monitoring/alloy/config.alloy by structure: blocks with an optional label, attributes whose values are
 * strings, numbers, booleans, arrays, objects or references to other components' exports. There is no
 * Alloy binary here (`alloy fmt` / `alloy validate` would be the real check); a syntax error throws.
 */

export type AlloyValue =
  string | number | boolean | null | AlloyValue[] | { [key: string]: AlloyValue } | { ref: string };

export interface AlloyBlock {
  /** e.g. "loki.process", "stage.json". */
  name: string;
  label?: string;
  attributes: Record<string, AlloyValue>;
  blocks: AlloyBlock[];
}

type Token = { kind: 'ident' | 'string' | 'number' | 'punct'; text: string; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) i += 1;
    else if (text.startsWith('//', i)) i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('/*', i)) i = text.indexOf('*/', i) + 2;
    else if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          const e = text[j + 1] as string;
          value += { n: '\n', t: '\t', '"': '"', '\\': '\\' }[e] ?? e;
          j += 2;
        } else value += text[j++];
      }
      if (j >= text.length) throw new Error(`unterminated string at offset ${i}`);
      tokens.push({ kind: 'string', text: value, at: i });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][\w.]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'ident', text: m[0], at: i });
      i += m[0].length;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!m) throw new Error(`unexpected '${c}' at offset ${i}`);
      tokens.push({ kind: 'number', text: m[0], at: i });
      i += m[0].length;
    } else if ('{}[]=,'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, at: i });
      i += 1;
    } else throw new Error(`unexpected '${c}' at offset ${i}`);
  }
  return tokens;
}

export function parseAlloy(text: string): AlloyBlock[] {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error('unexpected end of file');
    return t;
  };
  const expect = (p: string) => {
    const t = next();
    if (t.text !== p || t.kind === 'string')
      throw new Error(`expected '${p}' at offset ${t.at}, got '${t.text}'`);
  };

  function value(): AlloyValue {
    const t = next();
    if (t.kind === 'string') return t.text;
    if (t.kind === 'number') return Number(t.text);
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'false') return t.text === 'true';
      if (t.text === 'null') return null;
      return { ref: t.text };
    }
    if (t.text === '[') {
      const items: AlloyValue[] = [];
      while (peek()?.text !== ']') {
        items.push(value());
        if (peek()?.text === ',') next();
        else break;
      }
      expect(']');
      return items;
    }
    if (t.text === '{') {
      const obj: Record<string, AlloyValue> = {};
      while (peek()?.text !== '}') {
        const key = next();
        if (key.kind !== 'ident' && key.kind !== 'string')
          throw new Error(`bad object key at offset ${key.at}`);
        expect('=');
        obj[key.text] = value();
        if (peek()?.text === ',') next();
        else break;
      }
      expect('}');
      return obj;
    }
    throw new Error(`unexpected '${t.text}' at offset ${t.at}`);
  }

  function body(until: string | undefined): { attributes: Record<string, AlloyValue>; blocks: AlloyBlock[] } {
    const attributes: Record<string, AlloyValue> = {};
    const blocks: AlloyBlock[] = [];
    while (pos < tokens.length && peek()?.text !== until) {
      const name = next();
      if (name.kind !== 'ident') throw new Error(`expected a block or attribute name at offset ${name.at}`);
      if (peek()?.text === '=') {
        next();
        if (name.text in attributes) throw new Error(`attribute ${name.text} set twice at offset ${name.at}`);
        attributes[name.text] = value();
        continue;
      }
      const label = peek()?.kind === 'string' ? next().text : undefined;
      expect('{');
      const inner = body('}');
      expect('}');
      blocks.push({ name: name.text, ...(label !== undefined ? { label } : {}), ...inner });
    }
    return { attributes, blocks };
  }

  const top = body(undefined);
  if (Object.keys(top.attributes).length > 0) throw new Error('attributes outside any block');
  return top.blocks;
}

/** The component `name "label"` of a parsed file. */
export function component(blocks: AlloyBlock[], name: string, label?: string): AlloyBlock {
  const found = blocks.find((b) => b.name === name && (label === undefined || b.label === label));
  if (found === undefined) throw new Error(`no ${name}${label ? ` "${label}"` : ''} block`);
  return found;
}

/** Every reference (`loki.write.loki.receiver`) in a value, recursively. */
export function references(v: AlloyValue): string[] {
  if (v === null || typeof v !== 'object') return [];
  if ('ref' in v && typeof v.ref === 'string') return [v.ref];
  return (Array.isArray(v) ? v : Object.values(v)).flatMap(references);
}
