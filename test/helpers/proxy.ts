/**
 * A loopback TCP proxy in front of a real server (MariaDB) whose faults are switched at run time, for tests
 * of what a client does when the network misbehaves. No mock: every byte is the server's own.
 *
 * - `pass()`: forwards both ways (re-opening the listener and resuming stalled connections).
 * - `refuse()`: closes the listener, so new connections are refused (ECONNREFUSED), and destroys every open one.
 * - `reset()`: keeps listening but resets every new connection at once (ECONNRESET), and every open one.
 * - `cutAfter(n)`: destroys both sockets of a connection once it has carried `n` more server→client bytes
 *   (a connection lost in the middle of a result).
 * - `stall()`: stops forwarding in both directions; connections stay open and new ones are accepted, but
 *   nothing gets through until `pass()`.
 *
 * @example
 * const proxy = new FaultProxy({ host: '127.0.0.1', port: 3306 });
 * const port = await proxy.listen();
 * await proxy.refuse();
 * await proxy.pass();
 */
import net from 'node:net';

export type FaultMode = 'pass' | 'refuse' | 'reset' | 'stall' | 'cut';

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Server→client bytes forwarded since the current fault mode was set. */
  down: number;
  /** Chunks held while stalled, per direction, in order. */
  readonly heldUp: Buffer[];
  readonly heldDown: Buffer[];
}

export interface ProxyCounters {
  /** Connections accepted and forwarded. */
  accepted: number;
  /** Connections reset at once in `reset` mode. */
  reset: number;
  /** Connections destroyed mid-stream by `cutAfter`. */
  cut: number;
  /** Open connections destroyed by `refuse()` or `reset()`. */
  dropped: number;
  /** Server→client bytes forwarded in all. */
  bytesDown: number;
}

export class FaultProxy {
  readonly #target: { host: string; port: number };
  readonly #server: net.Server;
  readonly #pairs = new Set<Pair>();
  #port = 0;
  #listening = false;
  #mode: FaultMode = 'pass';
  #cutAt = Infinity;
  #cutReset = false;
  /** What happened so far. */
  readonly counters: ProxyCounters = { accepted: 0, reset: 0, cut: 0, dropped: 0, bytesDown: 0 };

  constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  /** The current fault. */
  get mode(): FaultMode {
    return this.#mode;
  }

  /** The port on 127.0.0.1 (after `listen()`). */
  get port(): number {
    return this.#port;
  }

  /** Connections open through the proxy now. */
  get open(): number {
    return this.#pairs.size;
  }

  /** Listens on 127.0.0.1 (a free port the first time, the same port afterwards); resolves to the port. */
  listen(): Promise<number> {
    if (this.#listening) return Promise.resolve(this.#port);
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#server.off('error', onError);
        this.#listening = true;
        this.#port = (this.#server.address() as net.AddressInfo).port;
        resolve(this.#port);
      });
    });
  }

  /** Healthy again: listening, forwarding, and whatever was held while stalled delivered in order. */
  async pass(): Promise<void> {
    this.#mode = 'pass';
    this.#cutAt = Infinity;
    await this.listen();
    for (const pair of this.#pairs) this.#flush(pair);
  }

  /** New connections are refused (the listener is closed) and open ones are destroyed at once. */
  async refuse(): Promise<void> {
    this.#mode = 'refuse';
    this.#dropAll(false);
    if (!this.#listening) return;
    this.#listening = false;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** New connections are accepted and reset at once; open ones are reset too. */
  async reset(): Promise<void> {
    this.#mode = 'reset';
    this.#dropAll(true);
    await this.listen();
  }

  /** Nothing is forwarded, either way, until `pass()`; connections stay open. */
  stall(): void {
    this.#mode = 'stall';
  }

  /**
   * Resolves once, while stalled, client→server chunks are held on `n` connections (a statement each has
   * been sent and is held here): what a test waits for to know a load is in flight, not a number of ticks.
   */
  async held(n = 1): Promise<void> {
    const count = () => [...this.#pairs].filter((p) => p.heldUp.length > 0).length;
    while (count() < n) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /**
   * Each connection (open now or made later) is destroyed, both sockets, once it has carried `bytes` more
   * server→client bytes; with `reset`, the client side gets a TCP reset instead of an orderly close.
   */
  cutAfter(bytes: number, options: { reset?: boolean } = {}): void {
    this.#mode = 'cut';
    this.#cutAt = bytes;
    this.#cutReset = options.reset === true;
    for (const pair of this.#pairs) pair.down = 0;
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    this.#mode = 'refuse';
    this.#dropAll(false);
    if (!this.#listening) return;
    this.#listening = false;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #dropAll(reset: boolean): void {
    for (const pair of this.#pairs) {
      this.counters.dropped++;
      this.#destroy(pair, reset);
    }
  }

  #destroy(pair: Pair, reset: boolean): void {
    this.#pairs.delete(pair);
    if (reset && !pair.client.destroyed) pair.client.resetAndDestroy();
    else pair.client.destroy();
    pair.upstream.destroy();
  }

  #accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.#mode === 'reset') {
      this.counters.reset++;
      client.resetAndDestroy();
      return;
    }
    if (this.#mode === 'refuse') {
      // Raced with closing the listener.
      client.destroy();
      return;
    }
    this.counters.accepted++;
    const upstream = net.connect(this.#target);
    upstream.on('error', () => undefined);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream, down: 0, heldUp: [], heldDown: [] };
    this.#pairs.add(pair);

    upstream.on('data', (chunk: Buffer) => this.#down(pair, chunk));
    client.on('data', (chunk: Buffer) => {
      if (this.#mode === 'stall' || pair.heldUp.length > 0) pair.heldUp.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('end', () => {
      if (this.#mode !== 'stall' && pair.heldDown.length === 0) client.end();
    });
    client.on('end', () => {
      if (this.#mode !== 'stall' && pair.heldUp.length === 0) upstream.end();
    });
    const teardown = () => {
      if (!this.#pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', teardown);
    upstream.on('close', teardown);
  }

  #down(pair: Pair, chunk: Buffer): void {
    if (this.#mode === 'stall' || pair.heldDown.length > 0) {
      pair.heldDown.push(chunk);
      return;
    }
    if (this.#mode === 'cut' && pair.down + chunk.length > this.#cutAt) {
      // Deliver exactly up to the cut, then drop the connection mid-result.
      const keep = Math.max(0, this.#cutAt - pair.down);
      if (keep > 0) pair.client.write(chunk.subarray(0, keep));
      this.counters.bytesDown += keep;
      this.counters.cut++;
      this.#destroy(pair, this.#cutReset);
      return;
    }
    pair.down += chunk.length;
    this.counters.bytesDown += chunk.length;
    pair.client.write(chunk);
  }

  #flush(pair: Pair): void {
    for (const chunk of pair.heldUp.splice(0)) pair.upstream.write(chunk);
    for (const chunk of pair.heldDown.splice(0)) {
      this.counters.bytesDown += chunk.length;
      pair.client.write(chunk);
    }
    if (pair.upstream.readableEnded) pair.client.end();
    if (pair.client.readableEnded) pair.upstream.end();
  }
}
