// `asyncdbview introspect` on a schema shaped like the Chinook sample database: the names it gives, the
// join table it turns into manyToMany, and the generated schema answering as plain SQL does.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { defineSchema, entity, hasMany, manyToMany, Mode, mysqlOrigin, openStore, SchemaError, sqliteCache, type Schema } from 'asyncdbview';
import { cli, ROOT } from './helpers/cli.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { typeErrors } from './helpers/type-errors.js';

const skip = await mysqlSkipReason();

/**
 * Chinook's shape: Artist → Album → Track (with Genre and MediaType), Customer → Invoice → InvoiceLine → Track,
 * Employee.ReportsTo referencing Employee, Customer.SupportRepId referencing Employee, and PlaylistTrack, a
 * pure join table of Playlist and Track. TrackRating joins Track and Customer too, with a column of its own.
 */
const CHINOOK = [
  'CREATE TABLE Artist (ArtistId INT PRIMARY KEY, Name VARCHAR(120))',
  'CREATE TABLE Album (AlbumId INT PRIMARY KEY, Title VARCHAR(160) NOT NULL, ArtistId INT NOT NULL, FOREIGN KEY (ArtistId) REFERENCES Artist (ArtistId))',
  'CREATE TABLE Genre (GenreId INT PRIMARY KEY, Name VARCHAR(120))',
  'CREATE TABLE MediaType (MediaTypeId INT PRIMARY KEY, Name VARCHAR(120))',
  'CREATE TABLE Track (TrackId INT PRIMARY KEY, Name VARCHAR(200) NOT NULL, AlbumId INT, MediaTypeId INT NOT NULL, GenreId INT, ' +
    'Milliseconds INT NOT NULL, UnitPrice DECIMAL(10,2) NOT NULL, FOREIGN KEY (AlbumId) REFERENCES Album (AlbumId), ' +
    'FOREIGN KEY (MediaTypeId) REFERENCES MediaType (MediaTypeId), FOREIGN KEY (GenreId) REFERENCES Genre (GenreId))',
  'CREATE TABLE Employee (EmployeeId INT PRIMARY KEY, LastName VARCHAR(20) NOT NULL, FirstName VARCHAR(20) NOT NULL, ReportsTo INT, ' +
    'FOREIGN KEY (ReportsTo) REFERENCES Employee (EmployeeId))',
  'CREATE TABLE Customer (CustomerId INT PRIMARY KEY, FirstName VARCHAR(40) NOT NULL, LastName VARCHAR(20) NOT NULL, SupportRepId INT, ' +
    'FOREIGN KEY (SupportRepId) REFERENCES Employee (EmployeeId))',
  'CREATE TABLE Invoice (InvoiceId INT PRIMARY KEY, CustomerId INT NOT NULL, InvoiceDate DATETIME NOT NULL, Total DECIMAL(10,2) NOT NULL, ' +
    'FOREIGN KEY (CustomerId) REFERENCES Customer (CustomerId))',
  'CREATE TABLE InvoiceLine (InvoiceLineId INT PRIMARY KEY, InvoiceId INT NOT NULL, TrackId INT NOT NULL, UnitPrice DECIMAL(10,2) NOT NULL, ' +
    'Quantity INT NOT NULL, FOREIGN KEY (InvoiceId) REFERENCES Invoice (InvoiceId), FOREIGN KEY (TrackId) REFERENCES Track (TrackId))',
  'CREATE TABLE Playlist (PlaylistId INT PRIMARY KEY, Name VARCHAR(120))',
  'CREATE TABLE PlaylistTrack (PlaylistId INT NOT NULL, TrackId INT NOT NULL, PRIMARY KEY (PlaylistId, TrackId), ' +
    'FOREIGN KEY (PlaylistId) REFERENCES Playlist (PlaylistId), FOREIGN KEY (TrackId) REFERENCES Track (TrackId))',
  'CREATE TABLE TrackRating (TrackId INT NOT NULL, CustomerId INT NOT NULL, Stars INT NOT NULL, PRIMARY KEY (TrackId, CustomerId), ' +
    'FOREIGN KEY (TrackId) REFERENCES Track (TrackId), FOREIGN KEY (CustomerId) REFERENCES Customer (CustomerId))',
  "INSERT INTO Artist VALUES (1, 'AC/DC'), (2, 'Accept'), (3, 'Nobody')",
  "INSERT INTO Album VALUES (1, 'For Those About To Rock', 1), (2, 'Let There Be Rock', 1), (3, 'Balls to the Wall', 2)",
  "INSERT INTO Genre VALUES (1, 'Rock'), (2, 'Metal')",
  "INSERT INTO MediaType VALUES (1, 'MPEG audio file')",
  "INSERT INTO Track VALUES (1, 'For Those About To Rock', 1, 1, 1, 343719, 0.99), (2, 'Put The Finger On You', 1, 1, 1, 205662, 0.99), " +
    "(3, 'Go Down', 2, 1, 1, 331180, 0.99), (4, 'Balls to the Wall', 3, 1, 2, 342562, 0.99), (5, 'Loose Track', NULL, 1, NULL, 1000, 1.99)",
  "INSERT INTO Employee VALUES (1, 'Adams', 'Andrew', NULL), (2, 'Edwards', 'Nancy', 1), (3, 'Peacock', 'Jane', 2), (4, 'Park', 'Margaret', 2)",
  "INSERT INTO Customer VALUES (1, 'Luís', 'Gonçalves', 3), (2, 'Leonie', 'Köhler', 4), (3, 'François', 'Tremblay', 3)",
  "INSERT INTO Invoice VALUES (1, 2, '2021-01-01 00:00:00', 1.98), (2, 1, '2021-01-02 00:00:00', 0.99)",
  'INSERT INTO InvoiceLine VALUES (1, 1, 2, 0.99, 1), (2, 1, 4, 0.99, 1), (3, 2, 4, 0.99, 1)',
  "INSERT INTO Playlist VALUES (1, 'Music'), (2, 'Heavy'), (3, 'Empty')",
  'INSERT INTO PlaylistTrack VALUES (1, 1), (1, 2), (1, 3), (1, 4), (2, 4), (2, 1)',
  'INSERT INTO TrackRating VALUES (4, 1, 5), (4, 2, 3)',
];

/** Each relation of each entity as `kind Target how`, how being the foreign key or the join table. */
function relationsOf(schema: Schema<any>): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.entries(schema.entities).map(([name, e]: [string, any]) => [
      name,
      Object.fromEntries(
        Object.entries(e.relations).map(([r, d]: [string, any]) => [
          r,
          d.kind === 'manyToMany' ? `manyToMany ${d.target} ${d.options.through}(${d.options.sourceKey} → ${d.options.targetKey})` : `${d.kind} ${d.target} ${String(d.foreignKey)}`,
        ]),
      ),
    ]),
  );
}

describe('introspect naming on a Chinook-like schema', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  // Inside the package folder, so the generated module's `import ... from 'asyncdbview'` resolves to this package.
  const dir = join(ROOT, '.tmp', `introspect-${process.pid}`);
  let source = '';
  let schema: Schema<any>;
  before(async () => {
    db = await createTestDb(...CHINOOK);
    mkdirSync(dir, { recursive: true });
    const run = await cli('introspect', '--origin', db.url);
    assert.equal(run.code, 0, run.stderr);
    source = run.stdout;
    const file = join(dir, 'chinook.mjs');
    writeFileSync(file, ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText);
    schema = ((await import(pathToFileURL(file).href)) as { schema: Schema<any> }).schema;
  });
  after(async () => {
    await db.drop();
    tmp.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names hasMany in the plural, a self-reference after its column, and turns the pure join table into manyToMany on both sides', () => {
    assert.deepEqual(Object.keys(schema.entities).sort(), ['Album', 'Artist', 'Customer', 'Employee', 'Genre', 'Invoice', 'InvoiceLine', 'MediaType', 'Playlist', 'Track', 'TrackRating']);
    assert.deepEqual(relationsOf(schema), {
      Artist: { albums: 'hasMany Album ArtistId' },
      Album: { artist: 'belongsTo Artist ArtistId', tracks: 'hasMany Track AlbumId' },
      Genre: { tracks: 'hasMany Track GenreId' },
      MediaType: { tracks: 'hasMany Track MediaTypeId' },
      Track: {
        album: 'belongsTo Album AlbumId',
        genre: 'belongsTo Genre GenreId',
        mediaType: 'belongsTo MediaType MediaTypeId',
        invoiceLines: 'hasMany InvoiceLine TrackId',
        trackRatings: 'hasMany TrackRating TrackId',
        playlists: 'manyToMany Playlist PlaylistTrack(TrackId → PlaylistId)',
      },
      Employee: {
        reportsTo: 'belongsTo Employee ReportsTo',
        employeesByReportsTo: 'hasMany Employee ReportsTo',
        customers: 'hasMany Customer SupportRepId',
      },
      Customer: {
        supportRep: 'belongsTo Employee SupportRepId',
        invoices: 'hasMany Invoice CustomerId',
        trackRatings: 'hasMany TrackRating CustomerId',
      },
      Invoice: { customer: 'belongsTo Customer CustomerId', invoiceLines: 'hasMany InvoiceLine InvoiceId' },
      InvoiceLine: { invoice: 'belongsTo Invoice InvoiceId', track: 'belongsTo Track TrackId' },
      Playlist: { tracks: 'manyToMany Track PlaylistTrack(PlaylistId → TrackId)' },
      // More than its two keys: an entity of its own, reached from both sides.
      TrackRating: { customer: 'belongsTo Customer CustomerId', track: 'belongsTo Track TrackId' },
    });
    assert.match(source, /^import \{ belongsTo, defineSchema, entity, hasMany, manyToMany \} from 'asyncdbview';$/m);
    assert.match(source, /^ {6}tracks: manyToMany\('Track', \{ through: 'PlaylistTrack', sourceKey: 'PlaylistId', targetKey: 'TrackId' \}\),$/m);
  });

  it('the module type-checks under strict settings, and the relations are typed', () => {
    const probe = `${source}
const check = async (view: import('asyncdbview').View<(typeof schema)['entities']>) => {
  const artist = await view.Artist(1);
  const albums: readonly { Title: string }[] = await artist.albums;
  const boss: { LastName: string } | null = await (await view.Employee(2)).reportsTo;
  const tracks: readonly { Name: string }[] = await (await view.Playlist(1)).tracks;
  return [albums, boss, tracks];
};
void check;
`;
    assert.deepEqual(typeErrors(probe, '__introspect_probe__'), []);
  });

  it('answers as plain SQL does, from the origin and then offline from the cache', async () => {
    const cacheFile = tmp.file('chinook.db');
    const sql = async (query: string, params: unknown[]) => ((await db.admin.query(query, params))[0] as Record<string, unknown>[]).map((r) => Object.values(r)[0]);
    const answers = async (view: any) => ({
      albums: (await (await view.Artist(1)).albums).map((a: any) => a.AlbumId),
      none: (await (await view.Artist(3)).albums).length,
      tracks: (await (await view.Playlist(1)).tracks).map((t: any) => t.TrackId),
      empty: (await (await view.Playlist(3)).tracks).length,
      playlists: (await (await view.Track(4)).playlists).map((p: any) => p.PlaylistId),
      boss: (await (await view.Employee(3)).reportsTo)?.EmployeeId,
      top: await (await view.Employee(1)).reportsTo,
      reports: (await (await view.Employee(2)).employeesByReportsTo).map((e: any) => e.EmployeeId),
      customers: (await (await view.Employee(3)).customers).map((c: any) => c.CustomerId),
      lines: (await (await view.Invoice(1)).invoiceLines).map((l: any) => l.InvoiceLineId),
      ratings: (await (await view.Track(4)).trackRatings).map((r: any) => r.Stars),
    });
    const expected = {
      albums: await sql('SELECT AlbumId FROM Album WHERE ArtistId = ? ORDER BY AlbumId', [1]),
      none: 0,
      tracks: await sql('SELECT TrackId FROM PlaylistTrack WHERE PlaylistId = ? ORDER BY TrackId', [1]),
      empty: 0,
      playlists: await sql('SELECT PlaylistId FROM PlaylistTrack WHERE TrackId = ? ORDER BY PlaylistId', [4]),
      boss: (await sql('SELECT ReportsTo FROM Employee WHERE EmployeeId = ?', [3]))[0],
      top: null,
      reports: await sql('SELECT EmployeeId FROM Employee WHERE ReportsTo = ? ORDER BY EmployeeId', [2]),
      customers: await sql('SELECT CustomerId FROM Customer WHERE SupportRepId = ? ORDER BY CustomerId', [3]),
      lines: await sql('SELECT InvoiceLineId FROM InvoiceLine WHERE InvoiceId = ? ORDER BY InvoiceLineId', [1]),
      ratings: await sql('SELECT Stars FROM TrackRating WHERE TrackId = ? ORDER BY CustomerId', [4]),
    };
    assert.deepEqual(expected.tracks, [1, 2, 3, 4]);
    {
      await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(cacheFile), mode: Mode.FRESHEN });
      await using view = store.view();
      assert.deepEqual(await answers(view), expected);
    }
    await using offline = await openStore(schema, { origin: null, cache: sqliteCache(cacheFile), mode: Mode.OFFLINE });
    await using view = offline.view();
    assert.deepEqual(await answers(view), expected);
  });
});

describe('a manyToMany through a table that is also an entity', () => {
  it('is refused with an error naming the entity and what to do instead', () => {
    const define = () =>
      defineSchema({
        Playlist: entity({
          table: 'Playlist', key: 'PlaylistId', columns: { PlaylistId: 'integer' },
          relations: {
            tracks: manyToMany('Track', { through: 'PlaylistTrack', sourceKey: 'PlaylistId', targetKey: 'TrackId' }),
            entries: hasMany('PlaylistTrack', 'PlaylistId'),
          },
        }),
        Track: entity({ table: 'Track', key: 'TrackId', columns: { TrackId: 'integer' } }),
        PlaylistTrack: entity({ table: 'PlaylistTrack', key: ['PlaylistId', 'TrackId'], columns: { PlaylistId: 'integer', TrackId: 'integer' } }),
      });
    assert.throws(define, (error: unknown) => {
      assert.ok(error instanceof SchemaError);
      assert.match(error.message, /^Playlist\.relations\.tracks\.through: table "PlaylistTrack" is the table of entity PlaylistTrack; a manyToMany's join table cannot also be an entity's table/);
      assert.match(error.message, /drop the entity PlaylistTrack, or drop the manyToMany/);
      return true;
    });
  });
});
