// `kiln bench net`: Kiln's network against Linux's, side by side in one run.
// - HTTP: wrk against apps/httpreply on Kiln and against Debian's nginx serving the same
//   612-byte page natively on loopback (one worker: the guest has one vCPU).
// - TCP: echo throughput (both directions at once) through apps/echo and through an epoll echo
//   server on Linux loopback.
// - UDP: apps/udp-kv requests a second (no native peer: the paper's figure is Kiln's own).
// Under TCG the Kiln figures are an emulator's: the result says so (`emulated`).
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { build } from "../build/index.ts";
import { resolveApp } from "../config/index.ts";
import { composeCmdline } from "../run/cmdline.ts";
import { KilnError } from "../errors.ts";
import { defaultBuildRoot, repoRoot } from "../paths.ts";
import { runImage, type RunnerName, type RunResult } from "../run/index.ts";
import type { NetMode } from "../run/net-options.ts";
import { startNginx, waitForPort } from "./nginx.ts";
import { table } from "./stats.ts";
import { echoThroughput, oneWay, type EchoThroughput } from "./tcp-echo.ts";
import { udpKvLoad, type UdpKvResult } from "./udp-kv.ts";

const execFileP = promisify(execFile);
import { runWrk, type WrkResult } from "./wrk.ts";

export interface NetBenchOptions {
  runner?: RunnerName | "auto";
  net?: NetMode;
  seconds: number;
  connections: number;
  /** Bytes each way in the echo test. */
  echoBytes: number;
  log?: (line: string) => void;
}

export interface NetBenchResult {
  runner: RunnerName;
  accel?: string;
  /** True under TCG: Kiln's figures are then an emulator's. */
  emulated: boolean;
  net: NetMode | "unknown";
  http: { connections: number; seconds: number; kiln: WrkResult; nginx_native: WrkResult; ratio: number };
  tcp_echo: { bytes: number; kiln: EchoThroughput; linux_loopback: EchoThroughput; ratio: number };
  /** One direction at a time: host to guest (apps/echo discard) and guest to host (source). */
  tcp_to_guest: { bytes: number; kiln: EchoThroughput; linux_loopback: EchoThroughput; ratio: number };
  tcp_from_guest: { bytes: number; kiln: EchoThroughput; linux_loopback: EchoThroughput; ratio: number };
  /** ICMP echo round trip (TAP only: QEMU's user mode answers pings itself), ms. */
  ping_ms?: { kiln: PingResult; linux_loopback: PingResult };
  udp_kv: { window: number; kiln: UdpKvResult };
}

/** The 612-byte page both servers send (apps/httpreply has the same bytes built in). */
export async function httpreplyPage(url: string): Promise<Buffer> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200 || body.length !== 612) throw new KilnError(`${url}: expected the 612-byte page, got status ${res.status} and ${body.length} bytes`);
  return body;
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });

interface GuestServer {
  host: string;
  port: number;
  mode: NetMode | undefined;
  result: Promise<RunResult>;
  stop(): Promise<RunResult>;
}

/** Boots a server app with its port published on the host, and waits for its "listening" line. */
async function startGuest(app: string, guestPort: number, proto: "tcp" | "udp", opts: NetBenchOptions, log: (s: string) => void, extraArgs: string[] = []): Promise<GuestServer> {
  log(`build apps/${app}`);
  const cfg = await resolveApp(path.join(repoRoot, "apps", app), { sets: [] });
  const built = await build(cfg, { log: () => {} });
  const hostPort = await freePort();
  const stop = new AbortController();
  let network: { mode: NetMode; guestIp: string } | undefined;
  let out = "";
  let listening: () => void = () => {};
  const up = new Promise<void>((resolve) => (listening = resolve));
  const result = runImage(built.image, {
    runner: opts.runner ?? "auto",
    memory: cfg.app.memory,
    cmdline: composeCmdline(cfg.app.cmdline, [], [String(guestPort), ...extraArgs]),
    net: { ...(opts.net ? { mode: opts.net } : {}), publish: [{ hostAddress: "127.0.0.1", hostPort, guestPort, proto }] },
    stop: stop.signal,
    onNetwork: (n) => (network = n),
    notice: log,
    timeoutMs: 30 * 60_000,
    onOutput: (t) => {
      out += t;
      if (/listening/.test(out)) listening();
    },
  });
  await Promise.race([
    up,
    result.then((r) => {
      throw new KilnError(`apps/${app} exited (status ${r.status}) before it listened:\n${r.output.slice(-1500)}`);
    }),
    new Promise((_, reject) => setTimeout(() => reject(new KilnError(`apps/${app} did not say it listens within 60 s:\n${out.slice(-1500)}`)), 60_000).unref()),
  ]);
  // On a TAP the load goes to the guest's address itself: the published port's proxy is a
  // convenience in this Node process, and would be what is measured.
  const direct = network?.mode === "tap";
  const host = direct ? network!.guestIp : "127.0.0.1";
  const port = direct ? guestPort : hostPort;
  if (proto === "tcp") await waitForPort(host, port, 10_000, `apps/${app}`);
  return {
    host,
    port,
    mode: network?.mode,
    result,
    async stop() {
      stop.abort();
      return result;
    },
  };
}

async function nativeEchoServer(port: number, mode?: "discard" | "source"): Promise<{ stop(): Promise<void> }> {
  const dir = path.join(defaultBuildRoot(), "bench-net");
  mkdirSync(dir, { recursive: true });
  const exe = path.join(dir, "echo-server");
  execFileSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, path.join(repoRoot, "src", "bench", "native", "echo-server.c")]);
  const child = spawn(exe, [String(port), ...(mode ? [mode] : [])], { stdio: ["ignore", "ignore", "inherit"] });
  await waitForPort("127.0.0.1", port, 10_000, "the native echo server");
  return {
    stop: () =>
      new Promise((resolve) => {
        child.on("close", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export async function benchNet(opts: NetBenchOptions): Promise<NetBenchResult> {
  const log = opts.log ?? (() => {});
  const wrkOpts = { threads: 2, connections: opts.connections, seconds: opts.seconds };

  // HTTP
  const http = await startGuest("httpreply", 80, "tcp", opts, log);
  let kilnHttp: WrkResult;
  let page: Buffer;
  let run: RunResult;
  try {
    page = await httpreplyPage(`http://${http.host}:${http.port}/`);
    log(`wrk ${opts.connections} connections, ${opts.seconds} s: Kiln httpreply`);
    kilnHttp = await runWrk(`http://${http.host}:${http.port}/`, wrkOpts);
  } finally {
    run = await http.stop();
  }
  const nginx = await startNginx(page, await freePort());
  let nativeHttp: WrkResult;
  try {
    log(`wrk ${opts.connections} connections, ${opts.seconds} s: native nginx`);
    nativeHttp = await runWrk(nginx.url, wrkOpts);
  } finally {
    await nginx.stop();
  }

  // TCP echo
  const echo = await startGuest("echo", 7, "tcp", opts, log);
  let kilnEcho: EchoThroughput;
  try {
    log(`echo ${opts.echoBytes} bytes: Kiln`);
    kilnEcho = await echoThroughput(echo.host, echo.port, opts.echoBytes);
  } finally {
    await echo.stop();
  }
  const nativePort = await freePort();
  const native = await nativeEchoServer(nativePort);
  let nativeEcho: EchoThroughput;
  try {
    log(`echo ${opts.echoBytes} bytes: Linux loopback`);
    nativeEcho = await echoThroughput("127.0.0.1", nativePort, opts.echoBytes);
  } finally {
    await native.stop();
  }

  // One direction at a time, and ping while a guest is up.
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const dirs = {} as Record<"to" | "from", { kiln: EchoThroughput; linux_loopback: EchoThroughput }>;
  let ping: NetBenchResult["ping_ms"];
  for (const dir of ["to", "from"] as const) {
    const mode = dir === "to" ? "discard" : "source";
    const g = await startGuest("echo", dir === "to" ? 9 : 19, "tcp", opts, log, [mode]);
    let kiln: EchoThroughput;
    try {
      log(`${opts.echoBytes} bytes ${dir === "to" ? "host to guest" : "guest to host"}: Kiln`);
      kiln = await oneWay(g.host, g.port, opts.echoBytes, dir);
      if (dir === "to" && g.mode === "tap") {
        log(`ping ${g.host}: Kiln`);
        const kp = await pingRtt(g.host);
        ping = { kiln: kp, linux_loopback: await pingRtt("127.0.0.1") };
      }
    } finally {
      await g.stop();
    }
    const np = await freePort();
    const n = await nativeEchoServer(np, mode);
    try {
      log(`${opts.echoBytes} bytes ${dir === "to" ? "host to guest" : "guest to host"}: Linux loopback`);
      dirs[dir] = { kiln, linux_loopback: await oneWay("127.0.0.1", np, opts.echoBytes, dir) };
    } finally {
      await n.stop();
    }
  }

  // UDP key-value
  const kv = await startGuest("udp-kv", 5000, "udp", opts, log);
  let kilnKv: UdpKvResult;
  const window = 16;
  try {
    log(`udp-kv ${opts.seconds} s, ${window} requests outstanding: Kiln`);
    kilnKv = await udpKvLoad(kv.host, kv.port, { seconds: opts.seconds, window, keys: 1000 });
  } finally {
    await kv.stop();
  }

  return {
    runner: run.runner,
    ...(run.accel ? { accel: run.accel } : {}),
    emulated: run.accel === "tcg",
    net: http.mode ?? "unknown",
    http: { connections: opts.connections, seconds: opts.seconds, kiln: kilnHttp, nginx_native: nativeHttp, ratio: ratio(kilnHttp.req_per_s, nativeHttp.req_per_s) },
    tcp_echo: { bytes: opts.echoBytes, kiln: kilnEcho, linux_loopback: nativeEcho, ratio: ratio(kilnEcho.mb_per_s, nativeEcho.mb_per_s) },
    tcp_to_guest: { bytes: opts.echoBytes, ...dirs.to, ratio: ratio(dirs.to.kiln.mb_per_s, dirs.to.linux_loopback.mb_per_s) },
    tcp_from_guest: { bytes: opts.echoBytes, ...dirs.from, ratio: ratio(dirs.from.kiln.mb_per_s, dirs.from.linux_loopback.mb_per_s) },
    ...(ping ? { ping_ms: ping } : {}),
    udp_kv: { window, kiln: kilnKv },
  };
}

export function formatNet(r: NetBenchResult): string {
  const us = (x: number) => `${Math.round(x)} us`;
  const rows = [
    ["", "Kiln", "native Linux", "Kiln / native"],
    ["HTTP req/s (wrk)", String(Math.round(r.http.kiln.req_per_s)), String(Math.round(r.http.nginx_native.req_per_s)), String(r.http.ratio)],
    ["HTTP latency p50", us(r.http.kiln.latency_us.p50), us(r.http.nginx_native.latency_us.p50), ""],
    ["HTTP latency p99", us(r.http.kiln.latency_us.p99), us(r.http.nginx_native.latency_us.p99), ""],
    ["HTTP errors", String(r.http.kiln.errors), String(r.http.nginx_native.errors), ""],
    ["TCP echo MB/s each way", String(r.tcp_echo.kiln.mb_per_s), String(r.tcp_echo.linux_loopback.mb_per_s), String(r.tcp_echo.ratio)],
    ["TCP host -> guest MB/s", String(r.tcp_to_guest.kiln.mb_per_s), String(r.tcp_to_guest.linux_loopback.mb_per_s), String(r.tcp_to_guest.ratio)],
    ["TCP guest -> host MB/s", String(r.tcp_from_guest.kiln.mb_per_s), String(r.tcp_from_guest.linux_loopback.mb_per_s), String(r.tcp_from_guest.ratio)],
    ...(r.ping_ms ? [["ping RTT avg (min) ms", `${r.ping_ms.kiln.avg} (${r.ping_ms.kiln.min})`, `${r.ping_ms.linux_loopback.avg} (${r.ping_ms.linux_loopback.min})`, ""]] : []),
    ["UDP kv req/s", String(r.udp_kv.kiln.req_per_s), "-", ""],
    ["UDP kv lost", String(r.udp_kv.kiln.lost), "-", ""],
  ];
  const where = `${r.runner}${r.accel ? ` (${r.accel})` : ""}, network ${r.net}`;
  return [
    `kiln bench net on ${where}: httpreply against nginx (${r.http.connections} connections, ${r.http.seconds} s), echo of ${r.tcp_echo.bytes} bytes`,
    "",
    table(rows),
    ...(r.emulated ? ["", "TCG: the Kiln figures are an emulator's, not Kiln's; measure on KVM."] : []),
  ].join("\n");
}

export interface PingResult {
  sent: number;
  received: number;
  min: number;
  avg: number;
  max: number;
}

/** Reads ping's summary (iputils). */
export function parsePing(out: string): PingResult {
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(out);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(out);
  if (!counts || !rtt) throw new KilnError(`ping printed no summary:\n${out.slice(-500)}`);
  return { sent: Number(counts[1]), received: Number(counts[2]), min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) };
}

async function pingRtt(host: string): Promise<PingResult> {
  try {
    const { stdout } = await execFileP("ping", ["-c", "50", "-i", "0.01", "-q", host], { timeout: 30_000 });
    return parsePing(stdout);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new KilnError("ping not found. Install it: apt-get install iputils-ping (or run 'make bench-deps').");
    throw e;
  }
}
