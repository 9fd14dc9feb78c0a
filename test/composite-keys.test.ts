import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, IsOfflineError, NotFoundError, 
} from 'asyncdbview';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { typeErrors } from './helpers/type-errors.js';
import { fileStores } from './helpers/file-stores.js';

const skip = await mysqlSkipReason();

/**
 * A composite key as the runtime takes it. The cast is here because the public key type (`KeyOf`) does not
 * accept composite keys at all (see the type test at the end); the runtime is what these tests check.
 */
const k = (key: unknown): never => key as never;

const schema = defineSchema({
  Region: entity({
    table: 'region', key: ['country', 'code'],
    columns: { country: 'text', code: 'integer', name: 'text' },
    relations: { cities: hasMany('City', ['country', 'region_code']) },
  }),
  City: entity({
    table: 'city', key: ['country', 'code'],
    columns: { country: 'text', code: 'text', name: 'text', region_code: 'integer?' },
    relations: { region: belongsTo('Region', ['country', 'region_code']) },
  }),
});

/**
 * Regions FR 11 and DE 11 share a code; IT 12 has no city; city FR XXX has no region (NULL), and city
 * DE MUC and FR MUC share a code.
 */
const TABLES = [
  'CREATE TABLE region (country CHAR(2) NOT NULL, code INT NOT NULL, name VARCHAR(100) NOT NULL, PRIMARY KEY (country, code))',
  'CREATE TABLE city (country CHAR(2) NOT NULL, code VARCHAR(3) NOT NULL, name VARCHAR(100) NOT NULL, region_code INT NULL, PRIMARY KEY (country, code), KEY (country, region_code))',
  "INSERT INTO region VALUES ('FR', 11, 'Ile-de-France'), ('FR', 93, 'PACA'), ('DE', 9, 'Bayern'), ('DE', 11, 'Berlin'), ('IT', 12, 'Lazio')",
  "INSERT INTO city VALUES ('FR', 'PAR', 'Paris', 11), ('FR', 'NCE', 'Nice', 93), ('FR', 'MRS', 'Marseille', 93), " +
    "('DE', 'MUC', 'Muenchen', 9), ('DE', 'BER', 'Berlin', 11), ('FR', 'MUC', 'Mucville', 11), ('FR', 'XXX', 'Nowhere', NULL)",
];

describe('composite keys', { skip }, () => {
  let db: TestDb;
  let file: string;
  let n = 0;
  const tmp = tempDir();
  beforeEach(async () => {
    db = await createTestDb(...TABLES);
    file = tmp.file(`composite-${++n}.db`);
  });
  afterEach(async () => {
    await db.drop();
  });
  after(() => tmp.remove());

  const { online, offline } = fileStores(schema, () => ({ url: db.url, file }));

  it('keys as arrays in key order or as objects: one object per row, one statement for three keys', async () => {
    await using store = await online();
    await using view = store.view();
    const step = await measure(db, store, () =>
      Promise.all([view.Region(k(['FR', 11])), view.Region(k({ country: 'DE', code: 11 })), view.Region(k(['FR', 93])), view.Region(k({ code: 11, country: 'FR' }))]),
    );
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    const [fr11, de11, fr93, fr11again] = step.value;
    assert.equal(fr11, fr11again, 'array and object forms of one key: one object');
    assert.notEqual(fr11, de11, 'same code, other country: another row');
    assert.deepEqual([fr11.name, de11.name, fr93.name], ['Ile-de-France', 'Berlin', 'PACA']);
    assert.deepEqual([fr11.country, fr11.code], ['FR', 11]);
    const again = await measure(db, store, () => view.Region(k(['FR', 11])));
    assert.equal(again.value, fr11);
    assert.equal(again.originQueries, 0);
    assert.equal(again.selects, 0);
    const many = await measure(db, store, () => view.Region.many(k([['DE', 9], { country: 'FR', code: 93 }, ['FR', 11]])));
    assert.equal(many.originQueries, 1, 'only DE 9 is new to the view');
    assert.equal(many.selects, 1, 'only DE 9 is new to the view');
    assert.deepEqual(many.value.map((r) => `${r.country}${r.code}`), ['DE9', 'FR93', 'FR11']);
    assert.equal(many.value[1], fr93);
  });

  it('hasMany and belongsTo over composite foreign keys: batched, ordered by key, identity kept', async () => {
    await using store = await online();
    await using view = store.view();
    const regions = await view.Region.many(k([['FR', 11], ['FR', 93], ['DE', 11], ['IT', 12]]));
    const step = await measure(db, store, () => Promise.all(regions.map((r) => r.cities)));
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    assert.deepEqual(
      step.value.map((cs) => cs.map((c) => `${c.country}-${c.code}`)),
      [['FR-MUC', 'FR-PAR'], ['FR-MRS', 'FR-NCE'], ['DE-BER'], []],
    );
    const paris = step.value[0]?.[1];
    assert.ok(paris !== undefined);
    const up = await measure(db, store, () => paris.region);
    assert.equal(up.value, regions[0], 'city.region is the same Region object');
    assert.equal(up.originQueries, 0);
    assert.equal(up.selects, 0);
    assert.equal(await view.City(k(['FR', 'PAR'])), paris);

    const munich = await view.City(k(['DE', 'MUC']));
    const bayern = await measure(db, store, () => munich.region);
    assert.equal(bayern.originQueries, 1);
    assert.equal(bayern.selects, 1);
    assert.equal(bayern.value?.name, 'Bayern');
  });

  it('a NULL component of a composite foreign key is null, with no statement', async () => {
    await using store = await online();
    await using view = store.view();
    const nowhere = await view.City(k({ country: 'FR', code: 'XXX' }));
    assert.equal(nowhere.region_code, null);
    const step = await measure(db, store, () => nowhere.region);
    assert.equal(step.value, null);
    assert.equal(step.originQueries, 0);
    assert.equal(step.selects, 0);
    assert.equal(step.cacheQueries, 0);
  });

  it('completeness offline: present rows answer, recorded-absent keys are NotFoundError, never-asked keys IsOfflineError', async () => {
    {
      await using store = await online();
      await using view = store.view();
      const regions = await view.Region.many(k([['FR', 11], ['FR', 93], ['DE', 9], ['IT', 12]]));
      await Promise.all([regions[1]?.cities, regions[3]?.cities]);
      await assert.rejects(view.Region(k(['FR', 99])), NotFoundError);
    }
    await using store = await offline();
    await using view = store.view();
    const step = await measure(db, store, () => view.Region.many(k([['FR', 11], ['FR', 93], ['DE', 9]])));
    assert.deepEqual(step.value.map((r) => r.name), ['Ile-de-France', 'PACA', 'Bayern']);
    await assert.rejects(view.Region(k(['FR', 99])), (e: unknown) => e instanceof NotFoundError && /FR/.test(e.message) && /99/.test(e.message));
    await assert.rejects(view.Region(k(['DE', 11])), IsOfflineError, 'never asked');
    await assert.rejects(view.Region(k(['FR', 12])), IsOfflineError, 'never asked (IT 12 was, with another country)');
    const fr93 = step.value[1]!;
    assert.deepEqual((await fr93.cities).map((c) => c.code), ['MRS', 'NCE']);
    assert.deepEqual(await (await view.Region(k(['IT', 12]))).cities, [], 'complete and empty');
    await assert.rejects(step.value[0]!.cities, IsOfflineError, 'FR 11 cities never asked');
    const nice = await view.City(k(['FR', 'NCE']));
    assert.equal(await nice.region, fr93, 'offline, through the composite foreign key');
    const nulls = await view.Region.many(k([['FR', 99], ['FR', 93]]), { nullForMissing: true });
    assert.deepEqual(nulls.map((r) => r?.name ?? null), [null, 'PACA']);
    assert.equal(store.stats.originQueries, 0);
  });

  it('FRESHEN: a city moved to another composite parent leaves the old group, offline included', async () => {
    {
      await using store = await online();
      await using view = store.view();
      const regions = await view.Region.many(k([['FR', 11], ['FR', 93]]));
      await Promise.all(regions.map((r) => r.cities));
    }
    await db.exec("UPDATE city SET region_code = 11 WHERE country = 'FR' AND code = 'NCE'");
    {
      await using store = await online();
      await using view = store.view();
      const regions = await view.Region.many(k([['FR', 11], ['FR', 93]]));
      const groups = await Promise.all(regions.map((r) => r.cities));
      assert.deepEqual(groups.map((cs) => cs.map((c) => c.code)), [['MUC', 'NCE', 'PAR'], ['MRS']]);
    }
    await using store = await offline();
    await using view = store.view();
    const regions = await view.Region.many(k([['FR', 11], ['FR', 93]]));
    const groups = await Promise.all(regions.map((r) => r.cities));
    assert.deepEqual(groups.map((cs) => cs.map((c) => c.code)), [['MUC', 'NCE', 'PAR'], ['MRS']]);
    assert.equal((await view.City(k(['FR', 'NCE']))).region_code, 11);
  });

  it('a key of the wrong shape or component type is a TypeError, with no statement', async () => {
    await using store = await online();
    await using view = store.view();
    const bad: unknown[] = [['FR', '11'], [11, 'FR'], ['FR'], ['FR', 11, 1], { country: 'FR' }, { country: 'FR', code: 1.5 }, 'FR', 11, null, [null, 11]];
    const step = await measure(db, store, async () => {
      for (const key of bad) await assert.rejects(view.Region(key as never), TypeError, JSON.stringify(key));
      await assert.rejects(view.Region.many([['FR', 11], ['FR', '93']] as never), TypeError);
      await assert.rejects(view.City(['FR', 5] as never), TypeError);
    });
    assert.equal(step.originQueries, 0);
    assert.equal(step.selects, 0);
    // A bigint in the safe range is the same integer component.
    assert.equal(await view.Region(['FR', 11n] as never), await view.Region(k(['FR', 11])));
  });
});

describe('composite keys: types', () => {
  const header =
    `import { belongsTo, defineSchema, entity, hasMany, type View } from 'asyncdbview';\n` +
    `const schema = defineSchema({\n` +
    `  Region: entity({ table: 'region', key: ['country', 'code'], columns: { country: 'text', code: 'integer', name: 'text' },\n` +
    `    relations: { cities: hasMany('City', ['country', 'region_code']) } }),\n` +
    `  City: entity({ table: 'city', key: ['country', 'code'], columns: { country: 'text', code: 'text', name: 'text', region_code: 'integer?' },\n` +
    `    relations: { region: belongsTo('Region', ['country', 'region_code']) } }),\n` +
    `});\n` +
    `type V = View<(typeof schema)['entities']>;\n`;

  it('a composite key type-checks as an array in key order and as an object, in lookups and many()', () => {
    const errors = typeErrors(
      header +
        `export async function f(view: V): Promise<unknown> {\n` +
        `  const r = await view.Region(['FR', 11]);\n` +
        `  const r2 = await view.Region({ country: 'FR', code: 11 });\n` +
        `  const rs = await view.Region.many([['FR', 11], { country: 'DE', code: 9 }]);\n` +
        `  const c = await view.City(['FR', 'PAR'], { include: { region: true } });\n` +
        `  const name: string = r.name;\n` +
        `  const code: number = r2.code;\n` +
        `  const region = await c.region;\n` +
        `  // @ts-expect-error a component of the wrong type\n` +
        `  await view.Region(['FR', '11']);\n` +
        `  return [rs.length, name, code, region?.name, (await r.cities).length];\n` +
        `}\n`,
      '__composite_probe__',
      { types: [] }, // the probe needs only this package's types: much faster without all of @types/node
    );
    assert.deepEqual(errors, []);
  });
});
