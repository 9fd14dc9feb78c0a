// store.warmUp() against an origin that is down or silent: an OriginError, within originTimeoutMs; and a
// store never closed does not keep the process alive.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { mysqlOrigin, openStore, OriginError, sqliteCache } from 'asyncdbview';
import { abSchema, AB_TABLES } from './helpers/ab-schema.js';
import { ROOT } from './helpers/cli.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';

const skip = await mysqlSkipReason();

/** A TCP server on loopback that accepts connections and never says a word (a MySQL server would greet). */
class SilentServer {
  readonly #server = net.createServer((socket) => {
    this.accepted++;
    this.#sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.closedByClient++;
    });
  });
  readonly #sockets = new Set<net.Socket>();
  accepted = 0;
  closedByClient = 0;

  listen(): Promise<number> {
    return new Promise((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as net.AddressInfo).port)));
  }

  /** Resolves once every accepted connection was closed (by the client, unless `close()` ran first). */
  async allClosed(): Promise<void> {
    while (this.#sockets.size > 0 || this.accepted === 0) await new Promise((r) => setTimeout(r, 20));
  }

  /** Hangs up every connection and stops listening (again: a no-op). */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A loopback port nothing listens on: one a server just gave back. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('store.warmUp() when the origin cannot be reached', () => {
  it('rejects with an OriginError once originTimeoutMs has passed without an answer', async () => {
    const silent = new SilentServer();
    const port = await silent.listen();
    try {
      // mysql2's own connect timeout is set far out, so only the store's timeout can end the wait.
      const origin = mysqlOrigin({ host: '127.0.0.1', port, user: 'root', database: 'nowhere', connectTimeout: 600_000 });
      const store = await openStore(abSchema, { origin, cache: sqliteCache(), originTimeoutMs: 300 });
      const error = await store.warmUp().then(
        () => assert.fail('warmUp resolved against a server that never answers'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof OriginError, `an OriginError, got ${String(error)}`);
      assert.equal(error.unreachable, true);
      assert.equal((error.cause as { code?: string }).code, 'ADBV_ORIGIN_TIMEOUT');
      assert.match(error.message, /^MySQL origin 127\.0\.0\.1:\d+\/nowhere: no answer within 300 ms$/);
      assert.ok(silent.accepted > 0, 'the origin was contacted');
      // The connections still wait for a greeting (for 10 min): the server hangs up first, then the store closes.
      await silent.close();
      await store.close();
    } finally {
      await silent.close();
    }
  });

  it("its pool's connection attempts give up after originTimeoutMs too, unless the options set connectTimeout", { timeout: 8000 }, async () => {
    const silent = new SilentServer();
    const port = await silent.listen();
    try {
      const origin = mysqlOrigin(`mysql://root@127.0.0.1:${port}/nowhere`);
      await using store = await openStore(abSchema, { origin, cache: sqliteCache(), originTimeoutMs: 200 });
      await assert.rejects(store.warmUp(), OriginError);
      // mysql2 would wait 10 s by default: the test's 8 s timeout fails if that is what happens.
      await silent.allClosed();
      assert.equal(silent.closedByClient, silent.accepted, 'every connection attempt was given up by the client');
    } finally {
      await silent.close();
    }
  });

  it('rejects with an OriginError carrying ECONNREFUSED when nothing listens', async () => {
    const port = await closedPort();
    await using store = await openStore(abSchema, { origin: mysqlOrigin(`mysql://root@127.0.0.1:${port}/nowhere`), cache: sqliteCache(), originTimeoutMs: 5000 });
    await assert.rejects(store.warmUp(), (error: unknown) => {
      assert.ok(error instanceof OriginError);
      assert.equal(error.unreachable, true);
      assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED');
      return true;
    });
  });
});

describe('a store that is never closed', { skip }, () => {
  let db: TestDb;
  const script = join(ROOT, '.tmp', `never-closed-${process.pid}.mjs`);
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    rmSync(script, { force: true });
  });

  it('does not keep the process alive: idle pool connections do not hold the event loop', { timeout: 20_000 }, async () => {
    mkdirSync(dirname(script), { recursive: true });
    writeFileSync(
      script,
      `import { openStore, mysqlOrigin, sqliteCache } from 'asyncdbview';
       import { abSchema } from ${JSON.stringify(join(ROOT, 'build', 'test', 'helpers', 'ab-schema.js'))};
       const store = await openStore(abSchema, { origin: mysqlOrigin(process.env.MYSQL_URL), cache: sqliteCache() });
       await store.warmUp();
       const a = await store.view().A(1, { include: { bs: true } });
       console.log(a.name, (await a.bs).length); // and then nothing: no close()
      `,
    );
    // Were the pool's sockets to hold the event loop, the child would never exit and the test would time out.
    const { stdout } = await promisify(execFile)(process.execPath, [script], { env: { ...process.env, MYSQL_URL: db.url } });
    assert.equal(stdout, 'a1 3\n');
  });
});
