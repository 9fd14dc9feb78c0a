// Decides, from its tokens, whether caller SQL is exactly one plain read; refuses anything else before it is sent.

import { RefusedSqlError, type CallerSqlEntry } from './refused-sql-error.js';
import { SqlLexError, sqlTokens, type SqlDialect, type SqlToken } from './sql-tokens.js';

/** Words after EXPLAIN/DESCRIBE that start a statement rather than name a table (`DESCRIBE t`). */
const NOT_A_TABLE = new Set(['SELECT', 'WITH', 'TABLE', 'VALUES', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'FOR', 'CALL', 'DO', 'SET', 'LOAD', 'HANDLER', 'ANALYZE']);

/**
 * Throws {@link RefusedSqlError} unless `sql` is exactly one read statement, as read by `dialect`'s lexer:
 *
 * - one statement (a trailing `;` with only comments after it is allowed);
 * - starting with `SELECT`, `WITH … SELECT` (every CTE a read too), `VALUES`, a parenthesised query, or, on
 *   MySQL, `TABLE`; for `raw` on MySQL also `SHOW`, and `EXPLAIN`/`DESCRIBE` of a read or of a table; for
 *   `raw` and `cacheSql` on SQLite also `EXPLAIN [QUERY PLAN]` of a read;
 * - with no `INTO` anywhere (`INTO OUTFILE`, `INTO DUMPFILE`, `INTO @variable`), no locking clause
 *   (`FOR UPDATE`, `FOR SHARE`, `LOCK IN SHARE MODE`), and on SQLite no call of `load_extension`;
 * - and nothing the lexer refuses (see {@link sqlTokens}): MySQL's executable comments and hints, a quote
 *   whose end depends on the sql_mode, an unterminated quote, a NUL.
 *
 * A word such as `INTO` inside a string, a quoted name or a comment is not a token, so it is never refused.
 * The message names what was refused and what the entry point takes.
 *
 * @example
 * assertReadOnlyStatement('SELECT * FROM a WHERE id = ?', 'mysql', 'raw'); // passes
 * assertReadOnlyStatement('CALL p()', 'mysql', 'raw'); // throws: raw: refused a CALL statement: …
 */
export function assertReadOnlyStatement(sql: string, dialect: SqlDialect, entry: CallerSqlEntry): void {
  const refuse = (what: string) => new RefusedSqlError(entry, dialect, sql, what);
  let tokens: SqlToken[];
  try {
    tokens = sqlTokens(sql, dialect);
  } catch (error) {
    if (error instanceof SqlLexError) throw refuse(error.what);
    throw error;
  }
  const semicolon = tokens.findIndex((t) => t.kind === 'symbol' && t.text === ';');
  if (semicolon >= 0) {
    if (semicolon < tokens.length - 1) throw refuse("a second statement after ';'");
    tokens = tokens.slice(0, semicolon);
  }
  if (tokens.length === 0) throw refuse('an empty statement (only comments)');
  const problem = statementProblem(tokens, dialect, entry) ?? clauseProblem(tokens, dialect);
  if (problem !== undefined) throw refuse(problem);
}

function word(token: SqlToken | undefined): string | undefined {
  return token?.kind === 'word' ? token.value : undefined;
}

function isSymbol(token: SqlToken | undefined, text: string): boolean {
  return token?.kind === 'symbol' && token.text === text;
}

function statementOf(token: SqlToken | undefined): string {
  if (token === undefined) return 'a statement that ends too soon';
  if (token.kind !== 'word') return `a statement starting with ${JSON.stringify(token.text)}`;
  return `${/^[AEIOU]/.test(token.value) ? 'an' : 'a'} ${token.value} statement`;
}

/** Why the statement as a whole is not a read, or undefined. */
function statementProblem(tokens: readonly SqlToken[], dialect: SqlDialect, entry: CallerSqlEntry): string | undefined {
  const first = word(tokens[0]);
  if (entry !== 'query' && dialect === 'mysql') {
    if (first === 'SHOW' && entry === 'raw') return undefined;
    if (first === 'EXPLAIN' || first === 'DESCRIBE' || first === 'DESC') return explainProblem(tokens, first);
  }
  if (entry !== 'query' && dialect === 'sqlite' && first === 'EXPLAIN') {
    const at = word(tokens[1]) === 'QUERY' && word(tokens[2]) === 'PLAN' ? 3 : 1;
    const problem = queryProblem(tokens, at, dialect);
    return problem === undefined ? undefined : `EXPLAIN of ${problem}`;
  }
  return queryProblem(tokens, 0, dialect);
}

/** MySQL's EXPLAIN/DESCRIBE: of a read (after EXTENDED, PARTITIONS, ANALYZE, FORMAT = …), or of a table. */
function explainProblem(tokens: readonly SqlToken[], keyword: string): string | undefined {
  let at = 1;
  for (;;) {
    const w = word(tokens[at]);
    if (w === 'EXTENDED' || w === 'PARTITIONS' || w === 'ANALYZE') at++;
    else if (w === 'FORMAT' && isSymbol(tokens[at + 1], '=')) at += 3;
    else break;
  }
  const next = tokens[at];
  const w = word(next);
  if (isSymbol(next, '(') || w === 'SELECT' || w === 'WITH' || w === 'TABLE' || w === 'VALUES') {
    const problem = queryProblem(tokens, at, 'mysql');
    return problem === undefined ? undefined : `${keyword} of ${problem}`;
  }
  // DESCRIBE table [column | 'pattern']
  const isName = (t: SqlToken | undefined) => t !== undefined && (t.kind === 'identifier' || (t.kind === 'word' && !NOT_A_TABLE.has(t.value)));
  let end = at;
  if (isName(tokens[end])) {
    end++;
    if (isSymbol(tokens[end], '.') && isName(tokens[end + 1])) end += 2;
    if (isName(tokens[end]) || tokens[end]?.kind === 'string') end++;
    if (end === tokens.length) return undefined;
  }
  return `${keyword} of ${statementOf(next)}`;
}

/** Why the query starting at `at` (after any opening parentheses) is not a read, or undefined. */
function queryProblem(tokens: readonly SqlToken[], at: number, dialect: SqlDialect): string | undefined {
  let i = at;
  while (isSymbol(tokens[i], '(')) i++;
  const w = word(tokens[i]);
  if (w === 'SELECT' || w === 'VALUES' || (w === 'TABLE' && dialect === 'mysql')) return undefined;
  if (w !== 'WITH') return statementOf(tokens[i]);
  const main = afterWith(tokens, i + 1, dialect);
  if (typeof main === 'string') return main;
  const problem = queryProblem(tokens, main, dialect);
  return problem === undefined ? undefined : `WITH … before ${problem}`;
}

/**
 * Reads the CTE list after WITH (`[RECURSIVE] name [(columns)] AS [[NOT] MATERIALIZED] (query), …`), each
 * CTE's query checked as a read; returns where the main statement starts, or why it cannot be read.
 */
function afterWith(tokens: readonly SqlToken[], at: number, dialect: SqlDialect): number | string {
  let i = at;
  if (word(tokens[i]) === 'RECURSIVE') i++;
  for (;;) {
    const name = tokens[i];
    if (name === undefined || (name.kind !== 'word' && name.kind !== 'identifier')) return 'a WITH clause that is not name AS (query)';
    i++;
    if (isSymbol(tokens[i], '(')) i = pastParenthesis(tokens, i);
    if (word(tokens[i]) !== 'AS') return 'a WITH clause that is not name AS (query)';
    i++;
    if (dialect === 'sqlite' && word(tokens[i]) === 'NOT') i++;
    if (dialect === 'sqlite' && word(tokens[i]) === 'MATERIALIZED') i++;
    if (!isSymbol(tokens[i], '(')) return 'a WITH clause that is not name AS (query)';
    const problem = queryProblem(tokens, i + 1, dialect);
    if (problem !== undefined) return `WITH ${name.text} AS (${problem})`;
    i = pastParenthesis(tokens, i);
    if (!isSymbol(tokens[i], ',')) return i;
    i++;
  }
}

/** The index just past the parenthesis that closes the one at `open` (the end if none does). */
function pastParenthesis(tokens: readonly SqlToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isSymbol(tokens[i], '(')) depth++;
    else if (isSymbol(tokens[i], ')') && --depth === 0) return i + 1;
  }
  return tokens.length;
}

/** A clause that makes a read write or lock, anywhere in the statement (subqueries too), or undefined. */
function clauseProblem(tokens: readonly SqlToken[], dialect: SqlDialect): string | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as SqlToken;
    const next = tokens[i + 1];
    if (dialect === 'sqlite' && t.kind !== 'symbol' && t.value.toUpperCase() === 'LOAD_EXTENSION' && isSymbol(next, '(')) {
      return 'a call of load_extension() (it loads native code)';
    }
    switch (word(t)) {
      case 'INTO': {
        const target = word(next) === 'OUTFILE' || word(next) === 'DUMPFILE' ? `INTO ${word(next)}` : isSymbol(next, '@') ? 'INTO @variable' : 'INTO';
        return `${target} (a read writes no file and no variable)`;
      }
      case 'FOR':
        if (word(next) === 'UPDATE' || word(next) === 'SHARE') return `FOR ${word(next)} (a locking read)`;
        break;
      case 'LOCK':
        if (word(next) === 'IN') return 'LOCK IN SHARE MODE (a locking read)';
        break;
    }
  }
  return undefined;
}
