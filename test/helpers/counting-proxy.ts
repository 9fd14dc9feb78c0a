/**
 * A loopback TCP proxy (node:net) in front of a real MySQL/MariaDB server that reads the client→server
 * byte stream as MySQL protocol packets and records every **command** a client sends, so tests can count
 * origin round trips on the wire instead of trusting the library's own counters. No mock: every byte is
 * forwarded unchanged, both ways.
 *
 * How commands are told apart (MySQL client/server protocol): every packet starts with a 4-byte header,
 * a 3-byte little-endian payload length and a 1-byte sequence id. The sequence id restarts at 0 with each
 * command the client sends; during the handshake the client's packets are answers (HandshakeResponse has
 * sequence id 1, auth-switch answers 3, 5, …), and a payload of 16 MiB − 1 bytes or more continues in
 * packets with sequence ids 1, 2, …. So a client packet with sequence id 0 is exactly the start of one
 * command: after authentication, one request the client waits on the server's answer for — one round trip
 * (mysql2 sends the next command on a connection only once the previous one is answered). COM_QUIT (0x01)
 * gets no answer and is recorded but not counted as a round trip.
 *
 * @example
 * const proxy = new CountingProxy({ host: '127.0.0.1', port: 3306 });
 * const port = await proxy.listen();
 * const mark = proxy.mark();
 * await somethingThatQueries();
 * proxy.roundTripsSince(mark); // the commands sent meanwhile, in order
 */
import net from 'node:net';

/** One command a client sent, as it crossed the proxy. */
export interface ClientCommand {
  /** Which proxied connection sent it (1, 2, … in order of connection). */
  readonly connection: number;
  /** The command byte (0x03 COM_QUERY, 0x16 COM_STMT_PREPARE, 0x17 COM_STMT_EXECUTE, 0x01 COM_QUIT, …). */
  readonly code: number;
  /** Its name, e.g. `COM_QUERY`. */
  readonly name: string;
  /** For COM_QUERY and COM_STMT_PREPARE: the statement text as sent (values already inlined by the client). */
  readonly sql?: string;
}

const NAMES: Record<number, string> = {
  0x01: 'COM_QUIT',
  0x02: 'COM_INIT_DB',
  0x03: 'COM_QUERY',
  0x0e: 'COM_PING',
  0x11: 'COM_CHANGE_USER',
  0x16: 'COM_STMT_PREPARE',
  0x17: 'COM_STMT_EXECUTE',
  0x19: 'COM_STMT_CLOSE',
  0x1a: 'COM_STMT_RESET',
  0x1b: 'COM_SET_OPTION',
  0x1f: 'COM_RESET_CONNECTION',
};

/** The statement every connection of mysqlOrigin's own pools runs first (its pools' `connection` hook). */
export const SESSION_SETUP = 'SET SESSION TRANSACTION READ ONLY';

export class CountingProxy {
  readonly #target: { host: string; port: number };
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #port = 0;
  #connections = 0;
  /** Every command seen so far, in the order the proxy read them. */
  readonly commands: ClientCommand[] = [];
  /**
   * The capability flags each connection asked for in its HandshakeResponse (its first packet, sequence id
   * 1), by connection number: e.g. `flags & 0x10000`, CLIENT_MULTI_STATEMENTS.
   */
  readonly clientFlags = new Map<number, number>();

  constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  /** Listens on a free port of 127.0.0.1; resolves to the port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as net.AddressInfo).port;
        resolve(this.#port);
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  /** A position in `commands`, for `since()`. */
  mark(): number {
    return this.commands.length;
  }

  /** The commands sent since `mark`, in order. */
  since(mark: number): ClientCommand[] {
    return this.commands.slice(mark);
  }

  /** The commands sent since `mark` that wait for an answer (all but COM_QUIT): the round trips. */
  roundTripsSince(mark: number): ClientCommand[] {
    return this.since(mark).filter((c) => c.code !== 0x01);
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    const connection = ++this.#connections;
    const upstream = net.connect(this.#target);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      s.on('error', () => undefined);
      this.#sockets.add(s);
      s.on('close', () => {
        this.#sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      // Record before forwarding: the answer cannot come back before the command is recorded.
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      pending = this.#parse(connection, pending);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  }

  /** Reads whole packets off `buffer`, records those that start a command, and returns the remainder. */
  #parse(connection: number, buffer: Buffer): Buffer {
    let at = 0;
    while (buffer.length - at >= 4) {
      const length = buffer.readUIntLE(at, 3);
      if (buffer.length - at < 4 + length) break;
      const seq = buffer[at + 3] as number;
      if (seq === 1 && length >= 4 && !this.clientFlags.has(connection)) this.clientFlags.set(connection, buffer.readUInt32LE(at + 4));
      if (seq === 0 && length > 0) {
        const code = buffer[at + 4] as number;
        const name = NAMES[code] ?? `COM_0x${code.toString(16).padStart(2, '0')}`;
        const text = code === 0x03 || code === 0x16 ? buffer.toString('utf8', at + 5, at + 4 + length) : undefined;
        this.commands.push({ connection, code, name, ...(text === undefined ? {} : { sql: text }) });
      }
      at += 4 + length;
    }
    return at === 0 ? buffer : buffer.subarray(at);
  }
}

/** The statements of one COM_QUERY text (split on `;` at the end of a line, as mysqlOrigin joins a tree). */
export function statementsOf(sql: string): string[] {
  return sql.split(/;\n/).map((s) => s.trim());
}

/**
 * The literal value lists of `IN (…)` in a statement as sent (values inlined by the client), with their
 * number of items: `IN (1, 2)` → 2, `IN (('FR', 11), ('DE', 9))` → 2. Subqueries (`IN (SELECT …)`) are
 * not lists of values and are skipped.
 */
export function inListSizes(sql: string): number[] {
  const sizes: number[] = [];
  const re = /\bIN \(/g;
  for (let m = re.exec(sql); m !== null; m = re.exec(sql)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    let items = 1;
    let quote: string | undefined;
    for (; i < sql.length && depth > 0; i++) {
      const ch = sql[i] as string;
      if (quote !== undefined) {
        if (ch === '\\') i++;
        else if (ch === quote) quote = undefined;
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (ch === ',' && depth === 1) items++;
    }
    if (/^\s*SELECT\b/i.test(sql.slice(start))) continue;
    sizes.push(items);
  }
  return sizes;
}

/**
 * The literal values of the first `IN (…)` list of numbers in a statement as sent (values inlined by the
 * client), sorted: which keys the statement carried, whatever order statements arrived in.
 */
export function inListNumbers(sql: string): number[] {
  const m = /\bIN \(([-\d,\s]+)\)/.exec(sql);
  if (m === null) return [];
  return (m[1] as string).split(',').map((s) => Number(s.trim())).sort((a, b) => a - b);
}
