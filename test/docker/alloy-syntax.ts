/**
 * A parser for Grafana Alloy's configuration syntax (formerly River), enough to reject what
 * `alloy fmt` / `alloy run` would reject on syntax: unbalanced braces, a missing `=` or
 * comma, an unterminated string, a bad token. No Alloy binary is available here, so the
 * suite checks the config with this and then checks the component graph on the result.
 *
 * Grammar (Alloy docs, "Syntax"): a body is a list of attributes `name = expr` and blocks
 * `a.b.c "label" { body }`; expressions are literals (string, raw `string`, number, bool,
 * null), arrays `[a, b,]`, objects `{ key = v, }`, dotted references with indexing,
 * function calls and unary/binary operators. Comments: `//` and block comments.
 */

export interface AlloyAttribute {
  kind: 'attribute';
  name: string;
  value: AlloyExpr;
  line: number;
}

export interface AlloyBlock {
  kind: 'block';
  name: string;
  label?: string;
  body: AlloyStatement[];
  line: number;
}

export type AlloyStatement = AlloyAttribute | AlloyBlock;

export type AlloyExpr =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'array'; items: AlloyExpr[] }
  | { kind: 'object'; fields: Record<string, AlloyExpr> }
  | { kind: 'ref'; path: string }
  | { kind: 'call'; callee: string; args: AlloyExpr[] }
  | { kind: 'op'; op: string; args: AlloyExpr[] };

type TokenKind = 'ident' | 'string' | 'number' | 'punct' | 'newline' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  value?: string;
  line: number;
}

export class AlloySyntaxError extends Error {}

const PUNCT = [
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  '=',
  ',',
  '.',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '<',
  '>',
  '!',
];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new AlloySyntaxError(`line ${line}: ${msg}`);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      tokens.push({ kind: 'newline', text: '\n', line });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated block comment');
      line += src.slice(i, end).split('\n').length - 1;
      i = end + 2;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') fail('newline in string literal');
        if (src[j] === '\\') {
          const e = src[j + 1];
          const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"' };
          if (e !== undefined && e in simple) {
            value += simple[e];
            j += 2;
            continue;
          }
          fail(`unknown escape \\${e ?? ''}`);
        }
        value += src[j];
        j++;
      }
      if (j >= src.length) fail('unterminated string');
      tokens.push({ kind: 'string', text: src.slice(i, j + 1), value, line });
      i = j + 1;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) fail('unterminated raw string');
      const value = src.slice(i + 1, end);
      tokens.push({ kind: 'string', text: src.slice(i, end + 1), value, line });
      line += value.split('\n').length - 1;
      i = end + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      tokens.push({ kind: 'number', text: m[0], line });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0], line });
      i += m[0].length;
    } else {
      const p = PUNCT.find((x) => src.startsWith(x, i));
      if (!p) fail(`unexpected character '${c}'`);
      tokens.push({ kind: 'punct', text: p!, line });
      i += p!.length;
    }
  }
  tokens.push({ kind: 'eof', text: '', line });
  return tokens;
}

const BINARY: string[][] = [
  ['||'],
  ['&&'],
  ['==', '!=', '<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/', '%'],
  ['^'],
];

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  /** The next token that is not a newline, without consuming anything. */
  private peekPastNewlines(): Token {
    let p = this.pos;
    while (this.tokens[p]!.kind === 'newline') p++;
    return this.tokens[p]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private skipNewlines(): void {
    while (this.peek().kind === 'newline') this.pos++;
  }
  private fail(msg: string, tok = this.peek()): never {
    throw new AlloySyntaxError(
      `line ${tok.line}: ${msg} (found ${tok.kind === 'eof' ? 'end of file' : `'${tok.text}'`})`,
    );
  }
  private expect(text: string): Token {
    const tok = this.next();
    if (tok.text !== text || (tok.kind !== 'punct' && tok.kind !== 'ident'))
      this.fail(`expected '${text}'`, tok);
    return tok;
  }

  parseBody(closing: string | null): AlloyStatement[] {
    const body: AlloyStatement[] = [];
    for (;;) {
      this.skipNewlines();
      const tok = this.peek();
      if (closing === null && tok.kind === 'eof') return body;
      if (closing !== null && tok.kind === 'punct' && tok.text === closing) return body;
      if (tok.kind !== 'ident') this.fail('expected an attribute or block name');
      body.push(this.parseStatement());
      // A statement ends at a newline, or right before the closing brace / end of file.
      const end = this.peek();
      if (end.kind !== 'newline' && end.kind !== 'eof' && !(end.kind === 'punct' && end.text === closing)) {
        this.fail('expected a newline after the statement');
      }
    }
  }

  private parseStatement(): AlloyStatement {
    const first = this.next();
    let name = first.text;
    while (this.peek().kind === 'punct' && this.peek().text === '.') {
      this.next();
      const part = this.next();
      if (part.kind !== 'ident') this.fail('expected a name after "."', part);
      name += `.${part.text}`;
    }
    const tok = this.peek();
    if (tok.kind === 'punct' && tok.text === '=') {
      if (name.includes('.')) this.fail(`attribute name '${name}' cannot contain '.'`, first);
      this.next();
      return { kind: 'attribute', name, value: this.parseExpr(), line: first.line };
    }
    let label: string | undefined;
    if (tok.kind === 'string') {
      label = this.next().value;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(label!)) this.fail(`invalid block label "${label}"`, tok);
    }
    this.expect('{');
    const body = this.parseBody('}');
    this.expect('}');
    return { kind: 'block', name, label, body, line: first.line };
  }

  parseExpr(level = 0): AlloyExpr {
    if (level === BINARY.length) return this.parseUnary();
    let left = this.parseExpr(level + 1);
    for (;;) {
      const tok = this.peek();
      if (tok.kind !== 'punct' || !BINARY[level]!.includes(tok.text)) return left;
      this.next();
      this.skipNewlines();
      left = { kind: 'op', op: tok.text, args: [left, this.parseExpr(level + 1)] };
    }
  }

  private parseUnary(): AlloyExpr {
    const tok = this.peek();
    if (tok.kind === 'punct' && (tok.text === '!' || tok.text === '-')) {
      this.next();
      return { kind: 'op', op: tok.text, args: [this.parseUnary()] };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePrimary(): AlloyExpr {
    const tok = this.next();
    if (tok.kind === 'string') return { kind: 'literal', value: tok.value! };
    if (tok.kind === 'number') return { kind: 'literal', value: Number(tok.text) };
    if (tok.kind === 'ident') {
      if (tok.text === 'true' || tok.text === 'false') return { kind: 'literal', value: tok.text === 'true' };
      if (tok.text === 'null') return { kind: 'literal', value: null };
      return { kind: 'ref', path: tok.text };
    }
    if (tok.kind === 'punct' && tok.text === '(') {
      this.skipNewlines();
      const inner = this.parseExpr();
      this.skipNewlines();
      this.expect(')');
      return inner;
    }
    if (tok.kind === 'punct' && tok.text === '[') {
      const items = this.parseList(']', () => this.parseExpr());
      return { kind: 'array', items };
    }
    if (tok.kind === 'punct' && tok.text === '{') {
      const fields: Record<string, AlloyExpr> = {};
      this.parseList('}', () => {
        const key = this.next();
        if (key.kind !== 'ident' && key.kind !== 'string') this.fail('expected an object key', key);
        const k = key.kind === 'string' ? key.value! : key.text;
        if (k in fields) this.fail(`duplicate object key '${k}'`, key);
        this.expect('=');
        fields[k] = this.parseExpr();
        return fields[k]!;
      });
      return { kind: 'object', fields };
    }
    return this.fail('expected an expression', tok);
  }

  /** Comma-separated items; a trailing comma is allowed, a missing comma between items is not. */
  private parseList<T>(closing: string, item: () => T): T[] {
    const items: T[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek().kind === 'punct' && this.peek().text === closing) {
        this.next();
        return items;
      }
      items.push(item());
      const sep = this.peekPastNewlines();
      if (sep.kind === 'punct' && sep.text === ',') {
        this.skipNewlines();
        this.next();
      } else if (sep.kind === 'punct' && sep.text === closing) {
        // Like Go: a newline before the closing bracket needs a trailing comma.
        if (this.peek().kind === 'newline') this.fail(`expected ',' before newline`, this.peek());
        this.skipNewlines();
        this.next();
        return items;
      } else {
        this.fail(`expected ',' or '${closing}'`, sep);
      }
    }
  }

  private parsePostfix(expr: AlloyExpr): AlloyExpr {
    for (;;) {
      const tok = this.peek();
      if (tok.kind === 'punct' && tok.text === '.' && expr.kind === 'ref') {
        this.next();
        const part = this.next();
        if (part.kind !== 'ident') this.fail('expected a name after "."', part);
        expr = { kind: 'ref', path: `${expr.path}.${part.text}` };
      } else if (tok.kind === 'punct' && tok.text === '(' && expr.kind === 'ref') {
        this.next();
        expr = { kind: 'call', callee: expr.path, args: this.parseList(')', () => this.parseExpr()) };
      } else if (tok.kind === 'punct' && tok.text === '[') {
        this.next();
        const index = this.parseExpr();
        this.expect(']');
        expr = { kind: 'op', op: 'index', args: [expr, index] };
      } else {
        return expr;
      }
    }
  }
}

export function parseAlloy(src: string): AlloyStatement[] {
  const parser = new Parser(tokenize(src));
  return parser.parseBody(null);
}

/** Every dotted reference used in an expression (arguments of calls included). */
export function referencesIn(expr: AlloyExpr): string[] {
  switch (expr.kind) {
    case 'ref':
      return [expr.path];
    case 'literal':
      return [];
    case 'array':
      return expr.items.flatMap(referencesIn);
    case 'object':
      return Object.values(expr.fields).flatMap(referencesIn);
    case 'call':
      return expr.args.flatMap(referencesIn);
    case 'op':
      return expr.args.flatMap(referencesIn);
  }
}
