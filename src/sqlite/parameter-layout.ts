/**
 * @internal Which SQLite parameter each value of a positional list binds, the way node-sqlite3 binds an
 * array (value i to parameter number i + 1, whatever the parameter looks like), for better-sqlite3, which
 * binds values given in order only to nameless parameters and binds `?NNN`, `:name`, `@name` and `$name`
 * only by name from an object.
 */
export interface ParameterLayout {
  /** The statement's highest parameter number. */
  readonly count: number;
  /** Parameter numbers SQLite gives no name (anonymous `?` and unused numbers), in order. */
  readonly anonymous: readonly number[];
  /** Named parameters, as better-sqlite3 keys them (the name without its first character), with their number. */
  readonly named: readonly (readonly [string, number])[];
}

/**
 * The parameters of one SQL statement, numbered as SQLite's tokenizer and `sqlite3ExprAssignVarNumber`
 * number them: `?` takes the next number, `?NNN` that number, a name its first number or the next one.
 * Text in string literals, quoted identifiers and comments is skipped.
 */
export function parameterLayout(sql: string): ParameterLayout {
  let count = 0;
  const nameOf = new Map<number, string>();
  const numberOf = new Map<string, number>();
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 0x27 || c === 0x22 || c === 0x60) {
      // '…', "…" and `…`, a doubled quote standing for itself.
      for (i++; i < n; i++) {
        if (sql.charCodeAt(i) !== c) continue;
        if (sql.charCodeAt(i + 1) === c) i++;
        else break;
      }
      i++;
    } else if (c === 0x5b) {
      const end = sql.indexOf(']', i + 1);
      i = end < 0 ? n : end + 1;
    } else if (c === 0x2d && sql.charCodeAt(i + 1) === 0x2d) {
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === 0x3f) {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      if (j === i + 1) count++;
      else {
        const num = Number(sql.slice(i + 1, j));
        // A number already named keeps its name, so `?1` after a `:name` numbered 1 binds by that name.
        if (num > count || !nameOf.has(num)) nameOf.set(num, sql.slice(i, j));
        if (num > count) count = num;
      }
      i = j;
    } else if (c === 0x3a || c === 0x40 || c === 0x24 || c === 0x23) {
      // :name, @name, $name, #name: better-sqlite3 builds SQLite without Tcl variables, so a name is only
      // identifier characters (no `$a(i)` or `$a::b`).
      let j = i + 1;
      while (j < n && isIdChar(sql.charCodeAt(j))) j++;
      if (j > i + 1) {
        const name = sql.slice(i, j);
        if (!numberOf.has(name)) {
          numberOf.set(name, ++count);
          nameOf.set(count, name);
        }
      }
      i = j;
    } else if (isIdChar(c)) {
      // A word or number: a `$` inside it (legal in SQLite identifiers) starts no parameter.
      i++;
      while (i < n && isIdChar(sql.charCodeAt(i))) i++;
    } else i++;
  }
  const anonymous: number[] = [];
  const named: [string, number][] = [];
  for (let k = 1; k <= count; k++) {
    const name = nameOf.get(k);
    if (name === undefined) anonymous.push(k);
    else named.push([name.slice(1), k]);
  }
  return { count, anonymous, named };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** SQLite's IdChar: ASCII letters and digits, `_`, `$`, and every non-ASCII character. */
function isIdChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c >= 0x80;
}
