/**
 * A slow origin, for real: a loopback TCP proxy in front of MariaDB that holds every server→client chunk
 * for `delayMs` after it arrived before passing it on. Chunks keep their order and are timed from their own
 * arrival, so one statement's answer costs one delay however many chunks it spans: each statement round
 * trip (and each connection handshake round trip) is `delayMs` slower.
 */
import net from 'node:net';

interface Held {
  readonly at: number;
  readonly chunk: Buffer;
}

export class DelayProxy {
  /** Added to each round trip; applies to chunks arriving after it is set. */
  delayMs = 0;
  readonly #target: { host: string; port: number };
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #connections = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Listens on 127.0.0.1 at a free port; resolves to the port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as net.AddressInfo).port));
    });
  }

  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.#connections++;
    const upstream = net.connect(this.#target);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.#sockets.add(client).add(upstream);
    const queue: Held[] = [];
    let timer: NodeJS.Timeout | undefined;
    let upstreamEnded = false;

    const flush = (): void => {
      timer = undefined;
      const now = performance.now();
      // Chunks due within the timer's granularity go now; setTimeout never fires early by more than that.
      while (queue.length > 0 && (queue[0] as Held).at <= now + 0.5) client.write((queue.shift() as Held).chunk);
      if (queue.length > 0) timer = setTimeout(flush, (queue[0] as Held).at - now);
      else if (upstreamEnded) client.end();
    };

    upstream.on('data', (chunk: Buffer) => {
      const delay = this.delayMs;
      if (delay <= 0 && queue.length === 0) {
        client.write(chunk);
        return;
      }
      queue.push({ at: performance.now() + delay, chunk });
      if (timer === undefined) timer = setTimeout(flush, delay);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('end', () => {
      upstreamEnded = true;
      if (queue.length === 0) client.end();
    });
    client.on('end', () => upstream.end());
    const teardown = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('close', teardown);
    upstream.on('close', () => {
      if (queue.length === 0) teardown();
    });
    client.on('error', teardown);
    upstream.on('error', teardown);
  }
}
