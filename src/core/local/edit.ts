// view.X.put / patch / remove: a local change written to the cache (never to the origin) and shown by the view at once; view.X.all().
import { normalizeKey } from '../codec.js';
import { IsOfflineError, NotFoundError } from '../errors.js';
import { loadAll } from '../load/whole-table.js';
import type { CompiledEntity } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import { ROW, type EntityObject } from '../view/entity-class.js';
import type { ViewState } from '../view/view-state.js';
import { checkPatch, checkRow } from './check-row.js';
import type { LocalChangeKind } from './local-change.js';

/** The origin row a change is made against: the row as loaded (`null`: absent), or undefined when offline and not in the cache. */
async function currentRow(state: ViewState, entity: CompiledEntity, key: KeyValue, kind: LocalChangeKind): Promise<Row | null | undefined> {
  try {
    return { ...(await state.lookup(entity, key))[ROW] };
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    // Offline and never loaded: a put or remove is still recorded, against an origin row not known.
    if (error instanceof IsOfflineError && kind !== 'patch') return undefined;
    throw error;
  }
}

function checkView(state: ViewState, entity: CompiledEntity, what: string): void {
  state.assertLive(`${what} ${entity.name}`);
  if (state.lens.side !== 'local') {
    throw new TypeError(`${entity.name}.${what}: this view shows the origin's rows without local changes ({ local: false }); make local changes in a view that shows them`);
  }
}

/** The key of a checked row. */
function keyOfRow(entity: CompiledEntity, row: Row): KeyValue {
  return normalizeKey(entity, entity.key.composite ? entity.key.columns.map((c) => row[c.name]) : row[(entity.key.columns[0] as { name: string }).name]);
}

/** `view.X.put(row)`: the whole row, new or replacing the row with its key. */
export async function putRow(state: ViewState, entity: CompiledEntity, values: unknown): Promise<EntityObject> {
  checkView(state, entity, 'put');
  const row = checkRow(entity, values, `${entity.name}.put`);
  const key = keyOfRow(entity, row);
  const base = await currentRow(state, entity, key, 'put');
  await state.ctx.cache.writeLocal({ entity: entity.name, key, kind: 'put', row, base });
  return state.localChanged(entity, key, { ...row }) as EntityObject;
}

/** `view.X.patch(key, columns)`: sets some columns of an existing row. */
export async function patchRow(state: ViewState, entity: CompiledEntity, key: unknown, values: unknown): Promise<EntityObject> {
  checkView(state, entity, 'patch');
  const k = normalizeKey(entity, key);
  const set = checkPatch(entity, values, `${entity.name}.patch`);
  const current = await currentRow(state, entity, k, 'patch');
  if (current === null || current === undefined) throw new NotFoundError(entity.name, [entity.key.composite ? entity.key.components(k) : k]);
  const row = { ...current, ...set };
  await state.ctx.cache.writeLocal({ entity: entity.name, key: k, kind: 'patch', columns: Object.keys(set), row, base: current });
  return state.localChanged(entity, k, { ...row }) as EntityObject;
}

/** `view.X.remove(key)`: takes the row out of every answer. */
export async function removeRow(state: ViewState, entity: CompiledEntity, key: unknown): Promise<void> {
  checkView(state, entity, 'remove');
  const k = normalizeKey(entity, key);
  const current = await currentRow(state, entity, k, 'remove');
  if (current === null) throw new NotFoundError(entity.name, [entity.key.composite ? entity.key.components(k) : k]);
  await state.ctx.cache.writeLocal({ entity: entity.name, key: k, kind: 'remove', row: null, base: current });
  state.localChanged(entity, k, null);
}

/** `view.X.all()`: every row of the entity in key order, local changes shown as the view shows them. */
export async function allRows(state: ViewState, entity: CompiledEntity): Promise<readonly EntityObject[]> {
  state.assertLive(`read all ${entity.name}`);
  const { rows, fresh } = await loadAll(state.ctx, entity, state.mode);
  const shown = await state.lens.all(entity, rows, fresh);
  return Object.freeze(state.adopt(entity, shown, fresh));
}
