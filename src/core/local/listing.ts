// store.localChanges(): the file's changes as the caller sees them (keys as given to lookups, conflicts worked out).
import { compareValues } from '../codec.js';
import type { CompiledEntity, CompiledSchema } from '../schema.js';
import type { Row } from '../values.js';
import type { LocalChange, StoredLocalChange } from './local-change.js';

/** True when two rows of `entity` hold the same values. */
export function sameRow(entity: CompiledEntity, a: Row | null, b: Row | null): boolean {
  if (a === null || b === null) return a === b;
  return entity.columns.every((c) => compareValues(c.type, a[c.name], b[c.name]) === 0);
}

/** A stored change as listed: conflict when a later load brought an origin row that differs from the one it was made against. */
export function listed(schema: CompiledSchema, change: StoredLocalChange): LocalChange {
  const entity = schema.byName.get(change.entity) as CompiledEntity;
  const conflict = change.origin !== undefined && change.base !== undefined && !sameRow(entity, change.origin, change.base);
  return {
    entity: change.entity,
    key: entity.key.composite ? entity.key.components(change.key) : change.key,
    kind: change.kind,
    ...(change.columns === undefined ? {} : { columns: change.columns }),
    base: change.base,
    origin: change.origin,
    local: change.local,
    conflict,
    changedAt: new Date(change.changedAt),
  };
}
