/**
 * The implementations, data-driven like better-sqlite3's benchmark: a map the runner crosses with its list
 * of trials. Each is loaded only in the child process that measures it, so a cell's memory and start-up
 * time hold only what that implementation needs.
 */
import type { ImplName, ScenarioName } from './common.js';
import type { ImplFactory } from './impl/types.js';

export interface ImplementationInfo {
  /** Short name for the table. */
  readonly label: string;
  /** What it is, for the markdown. */
  readonly description: string;
  /** Reads the origin (so its cells depend on the round-trip time). */
  readonly usesOrigin: boolean;
  /** Runs on a copy of the warm cache file. */
  readonly needsWarmCache: boolean;
  /** The scenarios it answers, when not all (preloading needs the tree known in advance). */
  readonly scenarios?: readonly ScenarioName[];
  readonly load: () => Promise<ImplFactory>;
}

export const implementations: Readonly<Record<ImplName, ImplementationInfo>> = {
  naive: {
    label: 'naive N+1 (mysql2)',
    description: 'a statement per resolver call over a mysql2 pool; nothing remembered',
    usesOrigin: true,
    needsWarmCache: false,
    load: async () => (await import('./impl/mysql.js')).naive,
  },
  dataloader: {
    label: 'hand-written DataLoader',
    description: 'a DataLoader per lookup kind per request over a mysql2 pool (relation loaders prime the key loaders); no persistent cache',
    usesOrigin: true,
    needsWarmCache: false,
    load: async () => (await import('./impl/mysql.js')).dataloader,
  },
  'adbv-cold': {
    label: 'asyncdbview cold',
    description: 'asyncdbview, FRESHEN, a new empty cache file per run (writes every row and mark to it)',
    usesOrigin: true,
    needsWarmCache: false,
    load: async () => (await import('./impl/adbv.js')).cold,
  },
  join: {
    label: 'hand-written JOIN',
    description: 'one LEFT JOIN of the three tables sent by the root resolver over a mysql2 pool, split into maps the other resolvers read; no persistent cache',
    usesOrigin: true,
    needsWarmCache: false,
    scenarios: ['tree', 'coldstart'],
    load: async () => (await import('./impl/mysql.js')).join,
  },
  'adbv-tree': {
    label: 'asyncdbview cold, one trip',
    description:
      "asyncdbview cold (as above), the root resolver preloading the response: `view.Author.many(roots, { include })` with the default strategy 'tree' (every level in one origin round trip)",
    usesOrigin: true,
    needsWarmCache: false,
    scenarios: ['tree', 'coldstart'],
    load: async () => (await import('./impl/adbv.js')).coldTree,
  },
  'adbv-levels': {
    label: 'asyncdbview cold, levels',
    description: "the same preload with `strategy: 'levels'` (one round trip per level)",
    usesOrigin: true,
    needsWarmCache: false,
    scenarios: ['tree', 'coldstart'],
    load: async () => (await import('./impl/adbv.js')).coldLevels,
  },
  'adbv-warm': {
    label: 'asyncdbview warm',
    description: 'asyncdbview, PREFER_CACHE on a filled cache file, origin configured',
    usesOrigin: false,
    needsWarmCache: true,
    load: async () => (await import('./impl/adbv.js')).warm,
  },
  'adbv-offline': {
    label: 'asyncdbview OFFLINE',
    description: 'asyncdbview, OFFLINE on a filled cache file, origin null',
    usesOrigin: false,
    needsWarmCache: true,
    load: async () => (await import('./impl/adbv.js')).offline,
  },
  'adbv-cold-bsq': {
    label: 'asyncdbview cold, better-sqlite3',
    description: "asyncdbview cold (as above) on the optional better-sqlite3 cache driver (`sqliteCache(file, { driver: 'better-sqlite3' })`: synchronous calls)",
    usesOrigin: true,
    needsWarmCache: false,
    load: async () => (await import('./impl/adbv.js')).coldBsq,
  },
  'adbv-warm-bsq': {
    label: 'asyncdbview warm, better-sqlite3',
    description: 'asyncdbview warm (as above) on the better-sqlite3 cache driver',
    usesOrigin: false,
    needsWarmCache: true,
    load: async () => (await import('./impl/adbv.js')).warmBsq,
  },
  'adbv-offline-bsq': {
    label: 'asyncdbview OFFLINE, better-sqlite3',
    description: 'asyncdbview OFFLINE (as above) on the better-sqlite3 cache driver',
    usesOrigin: false,
    needsWarmCache: true,
    load: async () => (await import('./impl/adbv.js')).offlineBsq,
  },
  mikro: {
    label: 'MikroORM 6.6 +dataloader',
    description: 'MikroORM 6.6 (EntitySchema), dataloader: ALL, identity map, an EntityManager fork per request',
    usesOrigin: true,
    needsWarmCache: false,
    load: async () => (await import('./impl/mikro.js')).mikro,
  },
  floor: {
    label: 'floor: raw sqlite3',
    description: 'the same rows read from the warm cache file by raw sqlite3 IN (json_each) queries, one per level',
    usesOrigin: false,
    needsWarmCache: true,
    load: async () => (await import('./impl/floor.js')).floor,
  },
  'floor-resolvers': {
    label: 'floor + resolver calls',
    description:
      'reference: the floor’s statements, then the scenario’s resolver-shaped code (an async call per field) over in-memory maps: ' +
      'the cost of awaiting field by field with no library (batch: keys known in advance)',
    usesOrigin: false,
    needsWarmCache: true,
    load: async () => (await import('./impl/floor.js')).floorResolvers,
  },
  plain: {
    label: 'rows as plain objects',
    description: "memory reference: the batch job's rows fetched set-wise with mysql2 and held as plain objects",
    usesOrigin: false,
    needsWarmCache: false,
    load: async () => (await import('./impl/mysql.js')).plain,
  },
};
