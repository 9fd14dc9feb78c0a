// The tokens of caller SQL as the server's own lexer splits them (MySQL/MariaDB or SQLite), so a check can read statements, not text.

/** Whose lexical rules apply: MySQL/MariaDB's or SQLite's. */
export type SqlDialect = 'mysql' | 'sqlite';

/**
 * One token. Comments and whitespace are not tokens. `word`: a keyword, a bare name or a number;
 * `identifier`: a quoted name; `string`: a quoted literal (MySQL's `"…"` too, which ANSI_QUOTES would make a
 * name: quoted either way); `symbol`: any other single character (`;`, `(`, `@`, `.`, …).
 */
export interface SqlToken {
  readonly kind: 'word' | 'identifier' | 'string' | 'symbol';
  /** The token as written. */
  readonly text: string;
  /** A word upper-cased, a quoted name or literal without its quotes (doubled quotes undone), else `text`. */
  readonly value: string;
  /** Offset of its first character in the SQL. */
  readonly start: number;
}

/**
 * SQL whose tokens cannot be told for certain, or that holds text the server runs although it looks like a
 * comment. `what` names it for a message ("an executable comment /*! … *\/").
 */
export class SqlLexError extends Error {
  override name = 'SqlLexError';
  readonly what: string;
  readonly at: number;
  constructor(what: string, at: number) {
    super(`${what} at offset ${at}`);
    this.what = what;
    this.at = at;
  }
}

const QUOTE = 0x27; // '
const DQUOTE = 0x22; // "
const BACKTICK = 0x60;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const BANG = 0x21;
const PLUS = 0x2b;
const LBRACKET = 0x5b;

/** ASCII whitespace, which both lexers skip (non-ASCII characters are name characters to both). */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Letters, digits, `_`, `$` and every non-ASCII character: what both lexers read as one word. */
function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c >= 0x80;
}

/**
 * Splits `sql` into tokens under `dialect`'s rules, or throws {@link SqlLexError} where the server could
 * read it otherwise than this function does, or would run text inside a comment:
 *
 * - both: a NUL character (a lexer may stop there); an unterminated quote.
 * - MySQL/MariaDB: `#` and `-- ` (two dashes then whitespace, a control character or the end) start line
 *   comments; `--x` is two minus signs. `/*! … *\/` and `/*M! … *\/` are refused (the server runs their
 *   content), and so is a hint `/*+ … *\/` (the server reads its content). Quotes `'…'` and `"…"` take
 *   doubled quotes and backslash escapes; a backslash right before the quote character is refused, as where
 *   the literal ends then depends on the session's `NO_BACKSLASH_ESCAPES` (or `ANSI_QUOTES`) mode, which the
 *   check cannot see. An unterminated block comment is refused.
 * - SQLite: `--` starts a line comment, an unterminated block comment runs to the end; `'…'` takes doubled
 *   quotes only; `"…"`, `` `…` `` and `[…]` are names.
 */
export function sqlTokens(sql: string, dialect: SqlDialect): SqlToken[] {
  const mysql = dialect === 'mysql';
  const tokens: SqlToken[] = [];
  const n = sql.length;
  // A lexer may stop at a NUL (and MySQL's ends a line comment there), so none is taken anywhere.
  const nul = sql.indexOf('\0');
  if (nul >= 0) throw new SqlLexError('a NUL character', nul);
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : -1;
    if (isSpace(c)) {
      i++;
    } else if ((mysql && c === HASH) || (c === DASH && next === DASH && (!mysql || i + 2 >= n || sql.charCodeAt(i + 2) <= 0x20 || sql.charCodeAt(i + 2) === 0x7f))) {
      // Line comments end at a newline only, in both lexers.
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === SLASH && next === STAR) {
      const marker = i + 2 < n ? sql.charCodeAt(i + 2) : -1;
      if (mysql && marker === BANG) throw new SqlLexError('an executable comment /*! … */', i);
      if (mysql && (marker === 0x4d || marker === 0x6d) && sql.charCodeAt(i + 3) === BANG) throw new SqlLexError('an executable comment /*M! … */', i);
      if (mysql && marker === PLUS) throw new SqlLexError('an optimizer hint /*+ … */', i);
      const end = sql.indexOf('*/', i + 2);
      if (end < 0 && mysql) throw new SqlLexError('an unterminated comment /* …', i);
      i = end < 0 ? n : end + 2;
    } else if (c === QUOTE || c === DQUOTE || c === BACKTICK || (!mysql && c === LBRACKET)) {
      const end = quoteEnd(sql, i, mysql && c !== BACKTICK);
      const text = sql.slice(i, end);
      const inner = text.slice(1, -1);
      const value = c === LBRACKET ? inner : inner.replaceAll(String.fromCharCode(c).repeat(2), String.fromCharCode(c));
      const kind = c === QUOTE || (mysql && c === DQUOTE) ? 'string' : 'identifier';
      tokens.push({ kind, text, value, start: i });
      i = end;
    } else if (isWordChar(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql.charCodeAt(j))) j++;
      const text = sql.slice(i, j);
      tokens.push({ kind: 'word', text, value: text.toUpperCase(), start: i });
      i = j;
    } else {
      const text = sql[i] as string;
      tokens.push({ kind: 'symbol', text, value: text, start: i });
      i++;
    }
  }
  return tokens;
}

/**
 * The offset just past the quote opened at `start`. A doubled quote stands for itself; with `escapes`
 * (MySQL's `'…'` and `"…"`), a backslash takes the next character with it, but not the quote character.
 */
function quoteEnd(sql: string, start: number, escapes: boolean): number {
  const open = sql.charCodeAt(start);
  const close = open === LBRACKET ? 0x5d : open;
  const n = sql.length;
  for (let i = start + 1; i < n; i++) {
    const c = sql.charCodeAt(i);
    if (escapes && c === BACKSLASH) {
      if (sql.charCodeAt(i + 1) === close) {
        throw new SqlLexError(`a backslash before ${String.fromCharCode(close)} in a quoted literal (where it ends depends on the sql_mode NO_BACKSLASH_ESCAPES; write the quote twice or bind the value)`, i);
      }
      i++;
    } else if (c === close) {
      if (close !== 0x5d && sql.charCodeAt(i + 1) === close) i++;
      else return i + 1;
    }
  }
  throw new SqlLexError(`an unterminated ${open === QUOTE || open === DQUOTE ? 'quoted literal' : 'quoted name'} ${String.fromCharCode(open)}…`, start);
}
