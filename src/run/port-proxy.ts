// Published ports over a TAP: a userspace proxy in the kiln process, so publishing needs no
// bridge and no iptables. TCP: listen on hostAddress:hostPort, and per connection connect to
// guest:guestPort over the TAP (retrying refusals and unreachability while the guest boots),
// then copy both ways with half-close kept. UDP: a relay with one upstream socket per client,
// so replies find their way back. Listening starts before the guest does (a port in use is an
// error before anything boots); close() ends every connection.
import { createServer, connect, type Server, type Socket } from "node:net";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { KilnError } from "../errors.ts";
import type { PublishedPort } from "./net-options.ts";

export interface ProxyOptions {
  /** How long a TCP connection keeps retrying the guest before giving up (it may be booting). */
  retryForMs?: number;
  /** Between attempts. */
  retryEveryMs?: number;
  /** A UDP client silent this long loses its upstream socket. */
  udpIdleMs?: number;
}

export interface PortProxy {
  /** Host ports actually bound (a hostPort of 0 in tests picks a free one). */
  readonly bound: Array<PublishedPort & { boundPort: number }>;
  /** Connections and datagrams served, for reports and tests. */
  readonly counts: { tcpConnections: number; tcpRetries: number; tcpFailed: number; udpDatagrams: number };
  close(): Promise<void>;
}

/** Errors that mean "the guest is not there yet": retried. */
const RETRY = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNRESET"]);

const spec = (p: PublishedPort): string => `-p ${p.hostAddress}:${p.hostPort}:${p.guestPort}${p.proto === "udp" ? "/udp" : ""}`;

export async function startPortProxy(publish: readonly PublishedPort[], guestIp: string, opts: ProxyOptions = {}): Promise<PortProxy> {
  const retryForMs = opts.retryForMs ?? 30_000;
  const retryEveryMs = opts.retryEveryMs ?? 100;
  const udpIdleMs = opts.udpIdleMs ?? 60_000;
  const counts = { tcpConnections: 0, tcpRetries: 0, tcpFailed: 0, udpDatagrams: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const servers: Server[] = [];
  const relays: UdpSocket[] = [];
  const upstreams = new Set<UdpSocket>();
  const bound: PortProxy["bound"] = [];
  let closed = false;

  const track = (s: Socket): Socket => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    return s;
  };

  const serveTcp = (p: PublishedPort, client: Socket): void => {
    track(client);
    client.on("error", () => client.destroy());
    const started = Date.now();
    const attempt = (): void => {
      if (closed || client.destroyed) return;
      const up = track(connect({ host: guestIp, port: p.guestPort, allowHalfOpen: true }));
      up.once("connect", () => {
        counts.tcpConnections++;
        up.removeAllListeners("error");
        up.on("error", () => client.destroy());
        client.on("close", () => up.destroy());
        up.on("close", () => client.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
      up.once("error", (e: NodeJS.ErrnoException) => {
        up.destroy();
        if (RETRY.has(e.code ?? "") && Date.now() - started < retryForMs) {
          counts.tcpRetries++;
          const t = setTimeout(() => (timers.delete(t), attempt()), retryEveryMs);
          timers.add(t);
        } else {
          counts.tcpFailed++;
          client.destroy();
        }
      });
    };
    attempt();
  };

  const serveUdp = (p: PublishedPort, relay: UdpSocket): void => {
    const clients = new Map<string, { up: UdpSocket; last: number }>();
    relay.on("message", (msg, from) => {
      const key = `${from.address}:${from.port}`;
      let c = clients.get(key);
      if (!c) {
        const up = createSocket("udp4");
        upstreams.add(up);
        up.on("message", (reply) => {
          c!.last = Date.now();
          relay.send(reply, from.port, from.address);
        });
        up.on("error", () => {});
        c = { up, last: Date.now() };
        clients.set(key, c);
      }
      c.last = Date.now();
      counts.udpDatagrams++;
      c.up.send(msg, p.guestPort, guestIp);
    });
    const sweep = setInterval(() => {
      for (const [key, c] of clients) if (Date.now() - c.last > udpIdleMs) {
        c.up.close();
        upstreams.delete(c.up);
        clients.delete(key);
      }
    }, Math.min(udpIdleMs, 10_000));
    sweep.unref();
    relay.on("close", () => clearInterval(sweep));
  };

  const proxy: PortProxy = {
    bound,
    counts,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      for (const u of upstreams) u.close();
      for (const r of relays) r.close();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };

  try {
    for (const p of publish) {
      const failed = (e: NodeJS.ErrnoException): KilnError =>
        new KilnError(`${spec(p)}: cannot listen on ${p.hostAddress}:${p.hostPort}/${p.proto} (${e.code ?? e.message})${e.code === "EADDRINUSE" ? ": the port is in use; pick another host port" : e.code === "EACCES" ? ": ports below 1024 need root" : ""}.`);
      if (p.proto === "tcp") {
        const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) => serveTcp(p, c));
        await new Promise<void>((resolve, reject) => {
          server.once("error", (e) => reject(failed(e)));
          server.listen(p.hostPort, p.hostAddress, () => resolve());
        });
        servers.push(server);
        const a = server.address();
        bound.push({ ...p, boundPort: typeof a === "object" && a ? a.port : p.hostPort });
      } else {
        const relay = createSocket("udp4");
        await new Promise<void>((resolve, reject) => {
          relay.once("error", (e) => reject(failed(e)));
          relay.bind(p.hostPort, p.hostAddress, () => resolve());
        });
        relays.push(relay);
        serveUdp(p, relay);
        bound.push({ ...p, boundPort: relay.address().port });
      }
    }
  } catch (e) {
    await proxy.close();
    throw e;
  }
  return proxy;
}
