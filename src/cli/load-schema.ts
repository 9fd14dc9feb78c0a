import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EntityDef, Schema } from '../core/schema.js';
import { UsageError } from './usage-error.js';

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && 'entities' in value && 'compiled' in value;
}

/**
 * The schema a JavaScript module exports: its `schema` export, else its default export, else its only
 * export that is a schema. The module is imported from where it is, so its `import … from 'asyncdbview'`
 * resolves from there. A TypeScript file must be compiled first.
 */
export async function loadSchema(file: string): Promise<Schema<Record<string, EntityDef>>> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`schema module not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const hint = /\.[cm]?ts$/.test(path) ? ' (compile it to JavaScript first, e.g. with tsc, and pass the .js file)' : '';
    throw new UsageError(`cannot load schema module ${file}: ${(error as Error).message}${hint}`);
  }
  if (isSchema(mod.schema)) return mod.schema;
  if (isSchema(mod.default)) return mod.default;
  const found = Object.entries(mod).filter(([, v]) => isSchema(v));
  if (found.length === 1) return (found[0] as [string, Schema])[1];
  if (found.length === 0) throw new UsageError(`${file} exports no schema: export one made by defineSchema() as \`schema\` or as the default export`);
  throw new UsageError(`${file} exports several schemas (${found.map(([n]) => n).join(', ')}): export the one to use as \`schema\``);
}
