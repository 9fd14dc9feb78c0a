// The origin server's own counters of writing statements (MariaDB Com_insert, Com_update, Com_delete, …).
import type { TestDb } from './mysql.js';

const WRITES = ['Com_insert', 'Com_insert_select', 'Com_update', 'Com_update_multi', 'Com_delete', 'Com_delete_multi', 'Com_replace', 'Com_replace_select'];

/** Every writing statement the server has run, by counter (global: the test server is private to the run). */
export async function originWrites(db: TestDb): Promise<Record<string, number>> {
  const [rows] = await db.admin.query(`SHOW GLOBAL STATUS WHERE Variable_name IN (${WRITES.map((w) => `'${w}'`).join(', ')})`);
  return Object.fromEntries((rows as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, Number(r.Value)]));
}
