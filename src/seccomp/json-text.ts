// A JSON parser for profile files: integers stay exact (bigint, as uint64 arguments need), syntax errors say line and column.

export type JsonValue = null | boolean | string | number | bigint | JsonValue[] | { [key: string]: JsonValue };

/** Invalid JSON at a 1-based line and column. */
export class JsonSyntaxError extends Error {
  constructor(readonly what: string, readonly line: number, readonly column: number) {
    super(`line ${line}, column ${column}: ${what}`);
    this.name = 'JsonSyntaxError';
  }
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string, at = this.pos): never {
    const before = this.text.slice(0, at).split('\n');
    throw new JsonSyntaxError(what, before.length, before[before.length - 1].length + 1);
  }

  /** What is at the current position, for messages. */
  seen(): string {
    return this.pos >= this.text.length ? 'the end of the file' : JSON.stringify(this.text[this.pos]);
  }

  space(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos])) this.pos++;
  }

  expect(ch: string, what: string): void {
    this.space();
    if (this.text[this.pos] !== ch) this.fail(`expected ${what}, got ${this.seen()}`);
    this.pos++;
  }

  value(): JsonValue {
    this.space();
    const ch = this.text[this.pos];
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return this.string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail(`expected a value, got ${this.seen()}`);
    this.pos += m[0].length;
    return m[2] === undefined && m[3] === undefined ? BigInt(m[0]) : Number(m[0]);
  }

  /** The items of an object or array, read by `item`, separated by commas, up to `close`. */
  items(close: string, where: string, item: () => void): void {
    this.pos++;
    this.space();
    if (this.text[this.pos] === close) {
      this.pos++;
      return;
    }
    for (;;) {
      item();
      this.space();
      if (this.text[this.pos] === close) break;
      if (this.text[this.pos] !== ',') this.fail(`expected "," or "${close}" after a value in ${where}, got ${this.seen()}`);
      this.pos++;
    }
    this.pos++;
  }

  object(): { [key: string]: JsonValue } {
    const out: { [key: string]: JsonValue } = {};
    this.items('}', 'an object', () => {
      this.space();
      const at = this.pos;
      if (this.text[this.pos] !== '"') this.fail(`expected a key in double quotes, got ${this.seen()}`);
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(out, key)) this.fail(`duplicate key "${key}"`, at);
      this.expect(':', '":" after the key');
      // defineProperty: a key "__proto__" is data like any other.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
    });
    return out;
  }

  array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.items(']', 'an array', () => out.push(this.value()));
    return out;
  }

  string(): string {
    let out = '';
    this.pos++;
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) this.fail('unterminated string');
      if (ch === '"') break;
      if (ch < ' ') this.fail('a control character in a string (write it as an escape such as \\n)');
      if (ch !== '\\') {
        out += ch;
        this.pos++;
        continue;
      }
      const esc = this.text[this.pos + 1];
      if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.pos + 2, this.pos + 6), 16));
        this.pos += 6;
      } else if (esc !== undefined && esc in ESCAPES) {
        out += ESCAPES[esc];
        this.pos += 2;
      } else {
        this.fail(`invalid escape in a string: \\${esc ?? ''}`);
      }
    }
    this.pos++;
    return out;
  }
}

/** Parses one JSON document (a leading byte order mark is skipped); throws a JsonSyntaxError. */
export function parseJson(text: string): JsonValue {
  const r = new Reader(text.startsWith('\ufeff') ? text.slice(1) : text);
  const v = r.value();
  r.space();
  if (r.pos < r.text.length) r.fail(`expected the end of the file after the value, got ${r.seen()}`);
  return v;
}
