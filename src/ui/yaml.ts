/**
 * A small YAML emitter for plain data (what JSON can hold): objects, arrays, strings, numbers,
 * booleans and null, in block style with a two-space indent, keys in insertion order and
 * `undefined` members left out (as JSON.stringify does).
 *
 * A string stays plain only when no YAML reader (1.1 or 1.2: CloudFormation, cfn-lint's PyYAML)
 * can take it for anything else; otherwise it is single-quoted, or double-quoted with escapes
 * when it holds characters a single-quoted scalar cannot carry. Multi-line text is a literal
 * block (`|`, `|-`, `|+`), which keeps it byte for byte. No tags are written: CloudFormation
 * intrinsics must be in their long form (`Fn::Sub:`, not `!Sub`).
 */
export function toYaml(value: unknown): string {
  return `${lines(value, 0).join('\n')}\n`;
}

/** Words YAML 1.1 reads as booleans, null, a merge key or a value key (any case), and 1.2's null. */
const RESERVED = /^(?:y|yes|n|no|true|false|on|off|null|~|<<|=)$/i;
/** Characters that start something other than a plain scalar. */
const INDICATOR_START = /^[-?:,[\]{}#&*!|>'"%@`]/;
/** Anything starting like a number, a date, a time or a special float: quoted. */
const NUMERIC_START = /^[-+]?(?:\.?\d|\.inf|\.nan)/i;
/**
 * Characters safe on one line, unescaped: printable, without tab, NEL (U+0085), the line and
 * paragraph separators (U+2028/9, line breaks in YAML 1.1) and the byte-order mark.
 */
const SAFE = /^[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]*$/u;

function lines(value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (!value.length) return [`${pad}[]`];
    return value.flatMap((item: unknown) => {
      if (!isCollection(item)) return after(`${pad}-`, item, indent + 2);
      // The item's first line goes on the dash line: `- key: value`, `- - x`.
      const [first, ...rest] = lines(item, indent + 2);
      return [`${pad}- ${first!.slice(indent + 2)}`, ...rest];
    });
  }
  if (isObject(value)) {
    const entries = members(value);
    if (!entries.length) return [`${pad}{}`];
    return entries.flatMap(([key, item]) => {
      const head = `${pad}${scalar(key)}:`;
      return isCollection(item) ? [head, ...lines(item, indent + 2)] : after(head, item, indent + 2);
    });
  }
  return after('', value, 2);
}

/** `head value` on one line, or `head |` and the text's lines indented by `indent`. */
function after(head: string, value: unknown, indent: number): string[] {
  if (typeof value === 'string' && blockable(value)) return block(head, value, indent);
  return [head ? `${head} ${scalar(value)}` : scalar(value)];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const members = (o: Record<string, unknown>) => Object.entries(o).filter(([, x]) => x !== undefined);
const isCollection = (v: unknown) => (Array.isArray(v) && v.length > 0) || (isObject(v) && members(v).length > 0);

/** One value on one line (an empty collection as `[]` or `{}`). */
export function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`YAML: cannot write the number ${value}`);
    // YAML 1.1 reads `1e+21` as a string: its floats need a dot.
    return String(value).replace(/^(-?\d+)e/, '$1.0e');
  }
  if (Array.isArray(value)) return '[]';
  if (typeof value === 'object') return '{}';
  const s = String(value);
  if (plainSafe(s)) return s;
  if (SAFE.test(s)) return `'${s.replace(/'/g, "''")}'`;
  return doubleQuoted(s);
}

function plainSafe(s: string): boolean {
  if (!s || s !== s.trim() || !SAFE.test(s)) return false;
  if (RESERVED.test(s) || INDICATOR_START.test(s) || NUMERIC_START.test(s)) return false;
  // `: ` starts a mapping value and ` #` a comment; a trailing `:` reads as a key.
  return !s.includes(': ') && !s.includes(' #') && !s.endsWith(':');
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

/** Double-quoted, with every character that is not safe as it is escaped. */
function doubleQuoted(s: string): string {
  let out = '';
  for (const ch of s) {
    if (ESCAPES[ch]) out += ESCAPES[ch];
    else if (SAFE.test(ch)) out += ch;
    else {
      const code = ch.codePointAt(0)!;
      out += code <= 0xff ? `\\x${hex(code, 2)}` : code <= 0xffff ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
    }
  }
  return `"${out}"`;
}

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

/**
 * Multi-line text whose lines are safe (tabs allowed) goes in a literal block. Not when it
 * starts with a space or a line break (the block's indentation would have to be spelled out),
 * holds nothing but whitespace, or ends its last line with spaces.
 */
function blockable(s: string): boolean {
  if (!s.includes('\n')) return false;
  if (!s.split('\n').every((l) => SAFE.test(l.replace(/\t/g, ' ')))) return false;
  return /^\S/.test(s) && !/[ \t]$/.test(s.replace(/\n+$/, ''));
}

function block(head: string, s: string, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const breaks = /\n+$/.exec(s)?.[0].length ?? 0;
  // `|-` strips the final line break, `|` keeps one, `|+` keeps them all.
  const chomp = breaks === 0 ? '-' : breaks === 1 ? '' : '+';
  const body = (breaks ? s.slice(0, -1) : s).split('\n');
  return [`${head ? `${head} ` : ''}|${chomp}`, ...body.map((l) => (l ? pad + l : ''))];
}
