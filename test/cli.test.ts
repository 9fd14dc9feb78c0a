import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { Mode, mysqlOrigin, openStore, sqliteCache, type Schema } from 'asyncdbview';
import { blogTables } from './helpers/blog.js';
import { cli, type CliRun } from './helpers/cli.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AUTHORS = 10;
const POSTS = 5;
const COMMENTS = 3;

/** The blog with FOREIGN KEYs, plus a composite key, a boolean, a JSON column and a table without a key. */
const TABLES = [
  ...blogTables(AUTHORS, POSTS, COMMENTS),
  'CREATE TABLE post_tags (post_id INT NOT NULL, tag VARCHAR(30) NOT NULL, pinned TINYINT(1) NOT NULL, meta JSON NULL, ' +
    'PRIMARY KEY (post_id, tag), FOREIGN KEY (post_id) REFERENCES posts (id))',
  `INSERT INTO post_tags VALUES (1, 'news', 1, '{"w": 2}'), (1, 'tech', 0, NULL), (2, 'news', 0, '[1, 2]')`,
  'CREATE TABLE audit_log (at DATETIME NOT NULL, line TEXT NOT NULL)',
];
const ENTITY_ROWS = { Author: AUTHORS, AuditLog: undefined, Comment: AUTHORS * POSTS * COMMENTS, Post: AUTHORS * POSTS, PostTag: 3 };

type Run = CliRun;

describe('asyncdbview command', () => {
  it('--help for the command and each subcommand exits 0 and documents the exit codes', async () => {
    const main = await cli('--help');
    assert.equal(main.code, 0);
    const names = ['introspect', 'warm', 'stats', 'verify', 'refresh'];
    const helps = await Promise.all(names.map((name) => cli(name, '--help')));
    for (const [i, name] of names.entries()) {
      assert.match(main.stdout, new RegExp(`^  ${name} `, 'm'));
      const help = helps[i] as Run;
      assert.equal(help.code, 0, `${name} --help`);
      assert.match(help.stdout, new RegExp(`^Usage: asyncdbview ${name} `));
      assert.ok(help.stdout.includes('Exit codes:\n  0  ok\n  1  a check failed or problems were found\n  2  usage error'), help.stdout);
      assert.match(help.stdout, /^ {2}3 {2}runtime error/m);
    }
    const [viaHelp, viaFlag] = await Promise.all([cli('help', 'verify'), cli('verify', '-h')]);
    assert.equal(viaFlag.code, 0);
    assert.equal(viaHelp.stdout, viaFlag.stdout);
  });

  it('exits 2 on usage errors, naming the mistake', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: asyncdbview COMMAND/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['introspect'], /--origin is required/],
      [['introspect', '--origin', 'mysql://root@127.0.0.1:3306/x', '--bogus'], /Unknown option '--bogus'/],
      [['introspect', '--origin', 'postgres://h/db'], /introspect reads MySQL\/MariaDB origins/],
      [['warm', '--schema', 'no-such-schema.js', '--origin', 'mysql://root@127.0.0.1:3306/x', '--cache', 'c.db'], /schema module not found: no-such-schema\.js/],
      [['stats', '--cache', 'no-such-cache.db'], /no such cache file: no-such-cache\.db/],
      [['stats'], /--cache is required/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const run = runs[i] as Run;
      assert.equal(run.code, 2, `asyncdbview ${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    }
  });
});

describe('command progress', () => {
  it('draws a bar in place on a terminal, and writes plain lines otherwise', async () => {
    const { Progress } = (await import(pathToFileURL(join(root, 'dist', 'cli', 'progress.js')).href)) as { Progress: new (label: string, o: object) => any };
    const out: string[] = [];
    const tty = new Progress('warm', { stream: { isTTY: true, columns: 100, write: (t: string) => out.push(t) } });
    tty.update(0, 200, 'Author');
    tty.update(100, 200, 'Post');
    tty.update(200, 200, 'Post');
    tty.end();
    assert.deepEqual(out, [
      '\r\x1b[Kwarm [..............................]   0% 0/200 Author',
      '\r\x1b[Kwarm [###############...............]  50% 100/200 Post',
      '\r\x1b[Kwarm [##############################] 100% 200/200 Post',
      '\n',
    ]);
    out.length = 0;
    const pipe = new Progress('warm', { stream: { isTTY: false, write: (t: string) => out.push(t) } });
    pipe.update(0, 200, 'Author');
    pipe.update(10, 200, 'Author'); // same kind within a second: not repeated
    pipe.update(100, 200, 'Post');
    pipe.update(200, 200, 'Post');
    pipe.end();
    assert.deepEqual(out, ['warm: Author 0/200 (0%)\n', 'warm: Post 100/200 (50%)\n', 'warm: Post 200/200 (100%)\n']);
  });
});

describe('asyncdbview command against MariaDB', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  // Inside the package folder, so the generated module's `import ... from 'asyncdbview'` resolves to this package.
  const dir = join(root, '.tmp', `cli-${process.pid}`);
  const schemaTs = join(dir, 'schema.ts');
  const schemaJs = join(dir, 'schema.mjs');
  const cache = tmp.file('cache.db');
  before(async () => {
    db = await createTestDb(...TABLES);
    mkdirSync(dir, { recursive: true });
  });
  after(async () => {
    await db.drop();
    tmp.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('introspect prints a schema module that type-checks, loads and opens a store', async () => {
    const run = await cli('introspect', '--origin', db.url);
    assert.equal(run.code, 0, run.stderr);
    const source = run.stdout;
    assert.match(source, /^import \{ belongsTo, defineSchema, entity, hasMany \} from 'asyncdbview';$/m);
    assert.match(source, /^export const schema = defineSchema\(\{$/m);
    assert.match(source, /^\/\/ Note: table audit_log: skipped, it has no primary key\.$/m);
    writeFileSync(schemaTs, source);

    // Type-checks as TypeScript against the package's own types (the schema checks are compile-time too).
    const program = ts.createProgram([schemaTs], {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ['node'], skipLibCheck: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(diagnostics, []);
    writeFileSync(schemaJs, ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText);

    const { schema } = (await import(pathToFileURL(schemaJs).href)) as { schema: Schema<any> };
    const e = schema.entities;
    assert.deepEqual(Object.keys(e), ['Author', 'Comment', 'Post', 'PostTag']);
    assert.deepEqual(e.Author.columns, { id: 'integer', name: 'text' });
    assert.deepEqual(e.Post.columns, { id: 'integer', title: 'text', author_id: 'integer', published: 'datetime' });
    assert.deepEqual(e.PostTag.key, ['post_id', 'tag']);
    assert.deepEqual(e.PostTag.columns, { post_id: 'integer', tag: 'text', pinned: 'boolean', meta: 'json?' });
    const rel = (name: string) => Object.fromEntries(Object.entries(e[name].relations).map(([r, d]: [string, any]) => [r, `${d.kind} ${d.target} ${String(d.foreignKey)}`]));
    assert.deepEqual(rel('Author'), { posts: 'hasMany Post author_id' });
    assert.deepEqual(rel('Post'), { author: 'belongsTo Author author_id', comments: 'hasMany Comment post_id', postTags: 'hasMany PostTag post_id' });
    assert.deepEqual(rel('Comment'), { post: 'belongsTo Post post_id' });
    assert.deepEqual(rel('PostTag'), { post: 'belongsTo Post post_id' });

    await using store = await openStore(schema, { origin: mysqlOrigin(db.url) });
    await using view: any = store.view();
    const post = await view.Post(1, { include: { author: true, postTags: true } });
    assert.equal((await post.author).name, 'Author 1');
    const tags = await post.postTags;
    assert.deepEqual(tags.map((t: any) => [t.tag, t.pinned, t.meta]), [['news', true, { w: 2 }], ['tech', false, null]]);
    assert.equal(await view.PostTag([2, 'news']).then((t: any) => t.pinned), false);
  });

  it('warm fills the cache for offline use, with progress lines on stderr and a summary', async () => {
    assert.ok(existsSync(schemaJs), 'the introspect test wrote the schema');
    // freshen: every row read by its key, so each entity's rows are marked complete (as the stats test expects).
    const run = await cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', cache, '--batch-size', '20', '--mode', 'freshen', '--json');
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.deepEqual(summary.rows, { Author: AUTHORS, Comment: AUTHORS * POSTS * COMMENTS, Post: AUTHORS * POSTS, PostTag: 3 });
    assert.ok(summary.originQueries > 0 && summary.lookups > 0 && summary.cacheQueries > 0 && summary.ms >= 0, run.stdout);
    // stderr is a pipe here: plain progress lines, the last one at 100%.
    const lines = run.stderr.trim().split('\n');
    assert.ok(lines.every((l) => /^warm: \w+ \d+\/\d+ \(\d+%\)$/.test(l)), run.stderr);
    assert.equal(lines.at(-1), `warm: PostTag ${AUTHORS + AUTHORS * POSTS * (1 + COMMENTS) + 3}/${AUTHORS + AUTHORS * POSTS * (1 + COMMENTS) + 3} (100%)`);

    // Everything, relations included, is now answered offline.
    const { schema } = (await import(pathToFileURL(schemaJs).href)) as { schema: Schema<any> };
    await using offline = await openStore(schema, { origin: null, cache: sqliteCache(cache), mode: Mode.OFFLINE });
    await using view: any = offline.view();
    const authors = await view.Author.many(Array.from({ length: AUTHORS }, (_, i) => i + 1), { include: { posts: { comments: true, postTags: true } } });
    const posts = (await Promise.all(authors.map((a: any) => a.posts))).flat();
    assert.equal(posts.length, AUTHORS * POSTS);
    assert.equal((await Promise.all(posts.map((p: any) => p.comments))).flat().length, AUTHORS * POSTS * COMMENTS);
    assert.equal((await (await view.Comment(7)).post).id, 3);
    assert.equal(offline.stats.originQueries, 0);

    const human = await cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', tmp.file('other.db'), '--entity', 'Author', '--include', '{"posts": {"comments": true}}', '--quiet');
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stderr, '', '--quiet: no progress');
    assert.match(human.stdout, /^warmed .*other\.db from MySQL origin/);
    assert.match(human.stdout, /^ {2}rows +10 \(Author 10\)$/m);
    assert.match(human.stdout, /^ {2}origin statements +\d+$/m);
  });

  it('warm resumes by default (prefer-cache): what the cache holds complete is not read again; --mode freshen reads it all', async () => {
    const warmInto = (file: string, ...more: string[]) =>
      countSelects(db, () => cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', file, '--batch-size', '20', '--json', '--quiet', ...more));
    const ok = ({ value }: { value: Run }) => assert.equal(value.code, 0, value.stderr);
    const ENTITIES = 4; // one key listing each: Author, Comment, Post, PostTag

    const fresh = await warmInto(tmp.file('resume.db'));
    ok(fresh);
    assert.equal(JSON.parse(fresh.value.stdout).originQueries, fresh.selects, 'the summary counts what the server ran');
    // Again on the complete cache: the key listings, and nothing else.
    const again = await warmInto(tmp.file('resume.db'));
    ok(again);
    assert.equal(again.selects, ENTITIES);
    assert.deepEqual(JSON.parse(again.value.stdout).rows, JSON.parse(fresh.value.stdout).rows);

    // A warm stopped after the authors' rows (as Ctrl-C would stop it), then resumed: the authors are not
    // read again, so the resumed run sends the fresh run's statements but the one that read them.
    const stopped = await warmInto(tmp.file('stopped.db'), '--entity', 'Author', '--include', '{}');
    ok(stopped);
    assert.equal(stopped.selects, 2, "Author's key listing, then its rows");
    const resumed = await warmInto(tmp.file('stopped.db'));
    ok(resumed);
    assert.equal(resumed.selects, fresh.selects - 1);

    // --mode freshen ignores what the cache holds: on the complete cache it sends what it sends on an empty one.
    const freshenEmpty = await warmInto(tmp.file('freshen.db'), '--mode', 'freshen');
    ok(freshenEmpty);
    const freshenFull = await warmInto(tmp.file('resume.db'), '--mode', 'FRESHEN');
    ok(freshenFull);
    assert.equal(freshenFull.selects, freshenEmpty.selects);
    assert.ok(freshenFull.selects >= fresh.selects, `freshen ${freshenFull.selects} vs prefer-cache from empty ${fresh.selects}`);

    const bad = await cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', tmp.file('x.db'), '--mode', 'offline');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--mode: expected prefer-cache or freshen, got "offline"/);
  });

  it('warm and refresh run the cache on better-sqlite3 with --driver, the file readable by the default driver', async () => {
    const file = tmp.file('bsq.db');
    const run = await cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', file, '--driver', 'better-sqlite3', '--entity', 'Post', '--json', '--quiet');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).rows, { Post: AUTHORS * POSTS });
    const refreshed = await cli('refresh', '--schema', schemaJs, '--origin', db.url, '--cache', file, '--driver', 'better-sqlite3', '--json', '--quiet');
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.ok(JSON.parse(refreshed.stdout).refreshed >= AUTHORS * POSTS, refreshed.stdout);
    const { schema } = (await import(pathToFileURL(schemaJs).href)) as { schema: Schema<any> };
    await using offline = await openStore(schema, { origin: null, cache: sqliteCache(file), mode: Mode.OFFLINE });
    await using view: any = offline.view();
    assert.equal((await (await view.Post(12)).comments).length, COMMENTS);
    const bad = await cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', tmp.file('y.db'), '--driver', 'sqlite4');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--driver: expected sqlite3 or better-sqlite3, got "sqlite4"/);
    assert.equal(existsSync(tmp.file('y.db')), false);
  });

  it('stats shows entities, relations, ages, rows and size, with or without the schema', async () => {
    const run = await cli('stats', '--cache', cache, '--json');
    assert.equal(run.code, 0, run.stderr);
    const stats = JSON.parse(run.stdout);
    const byName = Object.fromEntries(stats.entities.map((x: any) => [x.name, x]));
    for (const [name, rows] of Object.entries(ENTITY_ROWS)) {
      if (rows === undefined) {
        assert.equal(byName[name], undefined);
        continue;
      }
      assert.equal(byName[name].rows, rows, name);
      assert.equal(byName[name].complete, rows, name);
      assert.ok(Date.parse(byName[name].oldest) <= Date.parse(byName[name].newest) && Date.now() - Date.parse(byName[name].newest) < 600_000);
    }
    const relations = Object.fromEntries(stats.relations.map((x: any) => [x.name, x.complete]));
    assert.deepEqual(relations, { 'Author.posts': AUTHORS, 'Post.comments': AUTHORS * POSTS, 'Post.postTags': AUTHORS * POSTS });
    assert.ok(stats.bytes > 4096);

    const text = await cli('stats', '--cache', cache, '--schema', schemaJs);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^.*cache\.db: \d+(\.\d)? KiB/);
    assert.match(text.stdout, new RegExp(`^Comment +${AUTHORS * POSTS * COMMENTS} +${AUTHORS * POSTS * COMMENTS} +\\d{4}-`, 'm'));
    assert.match(text.stdout, /^Post\.postTags +50 +\d{4}-.* ago\)/m);
    assert.doesNotMatch(text.stdout, /not in schema/);
  });

  it('verify exits 0 on a sound cache and 1 when a mark is not backed', async () => {
    const ok = await cli('verify', '--cache', cache, '--schema', schemaJs);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ok: /);
    const onBetter = await cli('verify', '--cache', cache, '--schema', schemaJs, '--driver', 'better-sqlite3');
    assert.equal(onBetter.code, 0, onBetter.stdout + onBetter.stderr);
    assert.match(onBetter.stdout, /^ok: /);
    assert.equal((await cli('verify', '--cache', cache, '--schema', schemaJs, '--driver', 'sqlite4')).code, 2);
    const damaged = tmp.file('damaged.db');
    const copy = await openSqlite(cache);
    await copy.run(`VACUUM INTO '${damaged.replaceAll("'", "''")}'`);
    await copy.close();
    const file = await openSqlite(damaged);
    await file.run("INSERT INTO ever_loaded (kind, key, loaded_at) VALUES ('Nobody', 1, 0)");
    await file.close();
    const bad = await cli('verify', '--cache', damaged, '--schema', schemaJs, '--json');
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    const report = JSON.parse(bad.stdout);
    assert.equal(report.ok, false);
    assert.ok(report.problems.some((p: string) => p.includes('"Nobody"')), bad.stdout);
  });

  it('refresh re-reads every complete lookup from the origin and corrects the cache', async () => {
    await db.exec("UPDATE authors SET name = 'Renamed' WHERE id = 1", 'DELETE FROM post_tags WHERE post_id = 2');
    const { value: run, selects } = await countSelects(db, () => cli('refresh', '--schema', schemaJs, '--origin', db.url, '--cache', cache, '--json'));
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.ok(summary.refreshed > AUTHORS * POSTS * COMMENTS, run.stdout);
    assert.ok(selects >= summary.originQueries && summary.originQueries > 0, `${selects} SELECTs, ${summary.originQueries} origin statements`);
    assert.match(run.stderr, /^refresh: .* \(100%\)$/m);
    const file = await openSqlite(cache, true);
    try {
      assert.deepEqual(await file.all('SELECT name FROM authors WHERE id = 1'), [{ name: 'Renamed' }]);
      assert.deepEqual(await file.all('SELECT tag FROM post_tags WHERE post_id = 2'), []);
    } finally {
      await file.close();
    }
  });

  it('exits 3 when the origin cannot be reached or the cache is not one, and 2 for a bad --include or --entity', async () => {
    const down = 'mysql://root@127.0.0.1:1/nowhere';
    writeFileSync(tmp.file('not-a-cache.db'), 'hello');
    const [introspect, warm, refresh, notCache, badInclude, badJson, badEntity] = await Promise.all([
      cli('introspect', '--origin', down),
      cli('warm', '--schema', schemaJs, '--origin', down, '--cache', tmp.file('down.db')),
      cli('refresh', '--schema', schemaJs, '--origin', down, '--cache', cache, '--quiet'),
      cli('stats', '--cache', tmp.file('not-a-cache.db')),
      cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', tmp.file('x.db'), '--entity', 'Author', '--include', '{"postz": true}'),
      cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', tmp.file('x.db'), '--include', '{posts'),
      cli('warm', '--schema', schemaJs, '--origin', db.url, '--cache', tmp.file('x.db'), '--entity', 'Nobody'),
    ]);
    for (const run of [introspect, warm, refresh, notCache]) assert.equal(run.code, 3, run.stderr);
    assert.match(introspect.stderr, /^asyncdbview introspect: .*ECONNREFUSED/);
    assert.match(warm.stderr, /^asyncdbview warm: .*ECONNREFUSED/);
    assert.deepEqual(readdirSync(tmp.path).filter((f) => f.startsWith('down.db')), [], 'warm against an origin that is down leaves no cache file');
    assert.match(refresh.stderr, /^asyncdbview refresh: .*ECONNREFUSED/);
    assert.match(notCache.stderr, /is not a SQLite database/);
    for (const run of [badInclude, badJson, badEntity]) assert.equal(run.code, 2, run.stderr);
    assert.match(badInclude.stderr, /Author has no relation "postz"/);
    assert.match(badJson.stderr, /--include: not JSON/);
    assert.match(badEntity.stderr, /no entity "Nobody"; entities: Author, Comment, Post, PostTag/);
  });
});
