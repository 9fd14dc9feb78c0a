// Triggers that take completeness marks with the rows they counted: moved, added and changed rows, links that come and go.
import { compareExactly, type CompiledColumn, type CompiledEntity, type CompiledKey, type CompiledRelation, type CompiledSchema } from '../../core/schema.js';
import { quoteSqlite as q } from '../../sqlite/connection.js';
import { notLocallyChanged } from './local-changes.js';

/**
 * The stored key of a row in a trigger (`NEW` or `OLD`), as `keysParam` binds it: the column for one,
 * the canonical JSON text of the components for a composite key (`json_array` writes the text that
 * `JSON.stringify` does for the key types: integers, and text for text, bigint and decimal).
 */
function keyOf(key: CompiledKey, row: 'NEW' | 'OLD'): string {
  if (!key.composite) return `${row}.${q((key.columns[0] as CompiledColumn).name)}`;
  return `json_array(${key.columns.map((c) => `${row}.${q(c.name)}`).join(', ')})`;
}

function differs(columns: readonly CompiledColumn[]): string {
  return columns.map((c) => `OLD.${q(c.name)} IS NOT NEW.${q(c.name)}`).join(' OR ');
}

function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * `DROP` and `CREATE` of every trigger the schema's marks need, as one script (run at open, so each
 * trigger is the current schema's). Writes of any kind, through any merge, keep the ledger's rule: a
 * write that changes a row under a mark removes that mark in the same transaction. A merge that is itself
 * the complete answer for a key writes that key's mark after its rows, so it stands.
 *
 * - hasMany/hasOne `R` (the target's table holds the foreign key): a row inserted under parent X unmarks
 *   `R` of X (X's answer did not have it); a row whose foreign key changes from X to Y unmarks `R` of both.
 * - manyToMany `R`: a link inserted or deleted in its join table unmarks `R` of the link's source key (for
 *   the reverse relation over the same table, that is the other side).
 * - custom queries: a row of entity E that changes in any column unmarks every query answer recording it.
 *
 * A row with a local change stands aside: answers show its local version, which no merge changes, and a
 * local change never touches marks.
 */
export function triggersScript(schema: CompiledSchema): string {
  let script = '';
  const trigger = (name: string, body: string) => {
    script += `DROP TRIGGER IF EXISTS ${q(name)}; CREATE TRIGGER ${q(name)} ${body};`;
  };
  const unmark = (kind: string, key: string) => `DELETE FROM ever_loaded WHERE kind = ${literal(kind)} AND key = ${key};`;
  for (const rel of schema.relations) {
    if (rel.kind === 'hasMany' || rel.kind === 'hasOne') {
      const t = q(rel.target.table);
      const fk = rel.foreignKey;
      trigger(`adbv_added__${rel.id}`, `AFTER INSERT ON ${t} WHEN ${notLocallyChanged(rel.target, 'NEW')} BEGIN ${unmark(rel.id, keyOf(fk, 'NEW'))} END`);
      trigger(
        `adbv_moved__${rel.id}`,
        `AFTER UPDATE OF ${fk.columns.map((c) => q(c.name)).join(', ')} ON ${t} WHEN (${differs(fk.columns)}) AND ${notLocallyChanged(rel.target, 'NEW')} ` +
          `BEGIN ${unmark(rel.id, keyOf(fk, 'OLD'))} ${unmark(rel.id, keyOf(fk, 'NEW'))} END`,
      );
    } else if (rel.kind === 'manyToMany') {
      const through = rel.through as NonNullable<CompiledRelation['through']>;
      const src = q(through.sourceKey.name);
      trigger(`adbv_linked__${rel.id}`, `AFTER INSERT ON ${q(through.table)} BEGIN ${unmark(rel.id, `NEW.${src}`)} END`);
      trigger(`adbv_unlinked__${rel.id}`, `AFTER DELETE ON ${q(through.table)} BEGIN ${unmark(rel.id, `OLD.${src}`)} END`);
    }
  }
  for (const entity of schema.entities) {
    queryTrigger(entity, trigger);
    aliasTrigger(entity, trigger);
  }
  return script;
}

/**
 * An entity whose keys may match another spelling: a row that goes takes with it the marks of the keys
 * whose answer it was under another spelling (and their aliases), as it takes its own key's present mark
 * by being gone.
 */
function aliasTrigger(entity: CompiledEntity, trigger: (name: string, body: string) => void): void {
  if (entity.key.composite || compareExactly(entity.key)) return;
  const kind = literal(entity.name);
  const key = keyOf(entity.key, 'OLD');
  trigger(
    `adbv_gone__${entity.name}`,
    `AFTER DELETE ON ${q(entity.table)} BEGIN ` +
      `DELETE FROM ever_loaded WHERE kind = ${kind} AND key IN (SELECT asked FROM adbv_alias WHERE kind = ${kind} AND key = ${key}); ` +
      `DELETE FROM adbv_alias WHERE kind = ${kind} AND key = ${key}; END`,
  );
}

function queryTrigger(entity: CompiledEntity, trigger: (name: string, body: string) => void): void {
  const others = entity.columns.filter((c) => !entity.key.columns.includes(c));
  if (others.length === 0) return;
  trigger(
    `adbv_changed__${entity.name}`,
    `AFTER UPDATE ON ${q(entity.table)} WHEN (${differs(others)}) AND ${notLocallyChanged(entity, 'OLD')} BEGIN ` +
      'DELETE FROM ever_loaded WHERE (kind, key) IN ' +
      `(SELECT kind, params FROM adbv_query_rows WHERE entity = ${literal(entity.name)} AND key = ${keyOf(entity.key, 'OLD')}); END`,
  );
}
