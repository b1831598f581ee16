/**
 * A forward HTTP proxy on 127.0.0.1 for tests and benches: absolute-URI requests (http targets)
 * and CONNECT tunnels (https targets), each logged with its target and the bytes it carried, so
 * proxy support, parallelism and bytes fetched again on resume are observable from outside.
 * `bytesPerSecond` caps each client connection, each direction (a far region's TCP stream).
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ProxiedRequest {
  method: string;
  /** host:port */
  target: string;
  path: string;
  range?: string;
  status?: number;
  /** Request body bytes (a PUT's upload) or, for CONNECT, bytes sent into the tunnel. */
  bytesUp: number;
  /** Response body bytes or, for CONNECT, bytes out of the tunnel. */
  bytesDown: number;
}

export interface ForwardProxy {
  url: string;
  port: number;
  requests: ProxiedRequest[];
  /** Client connections accepted so far. */
  connections(): number;
  /** Requests (and tunnels) whose target is host:port. */
  to(target: string): ProxiedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

/** Paces one direction of one connection: a chunk leaves when the previous one would have. */
class Pace {
  private free = 0;
  constructor(private readonly bytesPerSecond: number) {}
  stream(count: (n: number) => void): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, next) => {
        count(chunk.length);
        if (!Number.isFinite(this.bytesPerSecond)) return next(null, chunk);
        const now = Date.now();
        const at = Math.max(now, this.free);
        this.free = at + (chunk.length / this.bytesPerSecond) * 1000;
        if (at - now < 2) next(null, chunk);
        else setTimeout(() => next(null, chunk), at - now);
      },
    });
  }
}

const paces = new WeakMap<Socket, { up: Pace; down: Pace }>();

export async function startForwardProxy(options: { bytesPerSecond?: number } = {}): Promise<ForwardProxy> {
  const rate = options.bytesPerSecond ?? Number.POSITIVE_INFINITY;
  const requests: ProxiedRequest[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  const paceOf = (socket: Socket) => {
    let p = paces.get(socket);
    if (!p) {
      p = { up: new Pace(rate), down: new Pace(rate) };
      paces.set(socket, p);
    }
    return p;
  };

  const server: Server = createServer((req: IncomingMessage, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URI required');
      return;
    }
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      target: `${url.hostname}:${url.port || 80}`,
      path: url.pathname + url.search,
      range: req.headers.range,
      bytesUp: 0,
      bytesDown: 0,
    };
    requests.push(entry);
    const pace = paceOf(req.socket);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = request(
      { host: url.hostname, port: url.port || 80, method: req.method, path: entry.path, headers },
      (up) => {
        entry.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        pipeline(
          up,
          pace.down.stream((n) => {
            entry.bytesDown += n;
          }),
          res,
        ).catch(() => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    pipeline(
      req,
      pace.up.stream((n) => {
        entry.bytesUp += n;
      }),
      upstream,
    ).catch(() => upstream.destroy());
  });

  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':');
    const entry: ProxiedRequest = {
      method: 'CONNECT',
      target: `${host}:${port}`,
      path: '',
      bytesUp: 0,
      bytesDown: 0,
    };
    requests.push(entry);
    const pace = paceOf(client);
    const upstream = connect(Number(port), host!, () => {
      entry.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      pipeline(
        client,
        pace.up.stream((n) => {
          entry.bytesUp += n;
        }),
        upstream,
      ).catch(() => upstream.destroy());
      pipeline(
        upstream,
        pace.down.stream((n) => {
          entry.bytesDown += n;
        }),
        client,
      ).catch(() => client.destroy());
    });
    upstream.on('error', () => {
      entry.status = 502;
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    connections: () => connections,
    to: (target) => requests.filter((r) => r.target === target),
    reset() {
      requests.length = 0;
      connections = 0;
    },
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
