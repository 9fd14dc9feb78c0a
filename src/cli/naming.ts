/** Names for generated schemas: entity names from table names, relation names from foreign keys. */
import { singularWord } from './inflection.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` may be used as a schema identifier (table, column, entity, relation). */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

/** `post_tags` → `PostTags`. */
export function pascalCase(name: string): string {
  const out = words(name).map(cap).join('');
  return /^[0-9]/.test(out) ? `T${out}` : out;
}

/** `post_tags` → `postTags`. */
export function camelCase(name: string): string {
  const p = pascalCase(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
}

/** The entity name of a table: PascalCase, last word singular (`blog_posts` → `BlogPost`). */
export function entityNameOf(table: string): string {
  const ws = words(table);
  if (ws.length === 0) return 'Table';
  ws[ws.length - 1] = singularWord(ws[ws.length - 1] as string);
  return pascalCase(ws.join('_'));
}

/**
 * A foreign key column without its id suffix (`author_id` → `author`, `ArtistId` → `Artist`, `AlbumID` →
 * `Album`, `owner_fk` → `owner`), or undefined when it has none (`ReportsTo`).
 */
export function stripIdSuffix(column: string): string | undefined {
  const m = /^(.+?)(_id|_ID|_Id|Id|_fk|_key)$/.exec(column) ?? /^(.*[a-z0-9])ID$/.exec(column);
  return m === null ? undefined : m[1];
}

/** The first candidate not taken, else the first with a number appended. */
export function unique(candidates: readonly string[], taken: ReadonlySet<string>): string {
  for (const c of candidates) if (c !== '' && !taken.has(c)) return c;
  const base = candidates.find((c) => c !== '') ?? 'relation';
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}
