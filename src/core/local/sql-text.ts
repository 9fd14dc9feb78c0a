// Local changes as SQL text for the origin's tables (MySQL/MariaDB dialect), for the caller to apply elsewhere.
import type { CompiledColumn, CompiledEntity } from '../schema.js';
import type { Row } from '../values.js';
import type { LocalChange } from './local-change.js';

/** A MySQL identifier, quoted (names come from the schema). */
function ident(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** A MySQL literal for one canonical value of `column`. */
export function literal(column: CompiledColumn, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  switch (column.type) {
    case 'integer':
    case 'real':
      return String(value);
    case 'bigint':
    case 'decimal':
      return String(value);
    case 'boolean':
      return value ? '1' : '0';
    case 'datetime':
      return quote((value as Date).toISOString().replace('T', ' ').replace('Z', ''));
    case 'json':
      return quote(JSON.stringify(value));
    case 'blob':
      return `X'${(value as Buffer).toString('hex')}'`;
    case 'text':
      return quote(String(value));
  }
}

/** What each character a MySQL string literal cannot hold as it is becomes. */
const ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\t': '\\t', '\x1a': '\\Z', "'": "\\'", '"': '\\"', '\\': '\\\\',
};

/** A MySQL string literal: quotes and backslashes escaped, NUL and control characters too. */
function quote(s: string): string {
  let out = "'";
  for (const ch of s) out += ESCAPES[ch] ?? ch;
  return out + "'";
}

function whereKey(entity: CompiledEntity, row: Row): string {
  return entity.key.columns.map((c) => `${ident(c.name)} = ${literal(c, row[c.name])}`).join(' AND ');
}

/**
 * One statement for one change: a put of a row the origin did not have is an INSERT, of one it had an
 * UPDATE of every column, of one not known an INSERT … ON DUPLICATE KEY UPDATE; a patch an UPDATE of the
 * columns it set; a remove a DELETE.
 */
export function changeSql(entity: CompiledEntity, change: LocalChange): string {
  const t = ident(entity.table);
  const keyRow: Row = {};
  const comps = entity.key.composite ? (change.key as unknown[]) : [change.key];
  entity.key.columns.forEach((c, i) => (keyRow[c.name] = comps[i]));
  if (change.kind === 'remove') return `DELETE FROM ${t} WHERE ${whereKey(entity, keyRow)};`;
  const row = change.local as Row;
  const nonKey = entity.columns.filter((c) => !entity.key.columns.includes(c));
  if (change.kind === 'patch') {
    const cols = nonKey.filter((c) => (change.columns ?? []).includes(c.name));
    return `UPDATE ${t} SET ${cols.map((c) => `${ident(c.name)} = ${literal(c, row[c.name])}`).join(', ')} WHERE ${whereKey(entity, keyRow)};`;
  }
  if (change.base !== null && change.base !== undefined && nonKey.length > 0) {
    return `UPDATE ${t} SET ${nonKey.map((c) => `${ident(c.name)} = ${literal(c, row[c.name])}`).join(', ')} WHERE ${whereKey(entity, keyRow)};`;
  }
  const insert = `INSERT INTO ${t} (${entity.columns.map((c) => ident(c.name)).join(', ')}) VALUES (${entity.columns.map((c) => literal(c, row[c.name])).join(', ')})`;
  if (change.base === null || nonKey.length === 0) return `${insert};`;
  return `${insert} ON DUPLICATE KEY UPDATE ${nonKey.map((c) => `${ident(c.name)} = VALUES(${ident(c.name)})`).join(', ')};`;
}
