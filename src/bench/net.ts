// `kiln bench net`: Kiln's network against Linux's, side by side in one run.
// - HTTP: wrk against apps/httpreply on Kiln and against Debian's nginx serving the same
//   612-byte page natively on loopback (one worker: the guest has one vCPU).
// - TCP: echo throughput (both directions at once), then each direction alone (apps/echo's
//   discard and source modes), through apps/echo and through an epoll server on Linux loopback
//   with the same modes; ping RTT on a TAP.
// - UDP: apps/udp-kv requests a second (no native peer: the paper's figure is Kiln's own).
// Under TCG the Kiln figures are an emulator's: the result says so (`emulated`).
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { build } from "../build/index.ts";
import { resolveApp } from "../config/index.ts";
import { composeCmdline } from "../run/cmdline.ts";
import { KilnError } from "../errors.ts";
import { defaultBuildRoot, repoRoot } from "../paths.ts";
import { freePort } from "../free-port.ts";
import { runImage, type RunnerName, type RunResult } from "../run/index.ts";
import type { NetMode } from "../run/net-options.ts";
import { startNginx, waitForPort } from "./nginx.ts";
import { table } from "./stats.ts";
import { echoThroughput, oneWay, type EchoThroughput } from "./tcp-echo.ts";
import { udpKvLoad, type UdpKvResult } from "./udp-kv.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

const execFileP = promisify(execFile);

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

interface GuestServer {
  host: string;
  port: number;
  mode: NetMode | undefined;
  stop(): Promise<RunResult>;
}

/** Runs `use` on a started server, then stops it whatever happened. */
async function using<S extends { stop(): Promise<unknown> }, T>(server: S, use: (s: S) => Promise<T>): Promise<T> {
  try {
    return await use(server);
  } finally {
    await server.stop();
  }
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
    async stop() {
      stop.abort();
      return result;
    },
  };
}

/** Compiles the native peer (src/bench/native/echo-server.c); returns the executable. */
function buildNativeEchoServer(): string {
  const dir = path.join(defaultBuildRoot(), "bench-net");
  mkdirSync(dir, { recursive: true });
  const exe = path.join(dir, "echo-server");
  execFileSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, path.join(repoRoot, "src", "bench", "native", "echo-server.c")]);
  return exe;
}

type TcpMode = "echo" | "discard" | "source";

async function nativeEchoServer(exe: string, port: number, mode: TcpMode): Promise<{ stop(): Promise<void> }> {
  const child = spawn(exe, [String(port), ...(mode === "echo" ? [] : [mode])], { stdio: ["ignore", "ignore", "inherit"] });
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
  let page: Buffer | undefined;
  const kilnHttp = await using(http, async (g) => {
    page = await httpreplyPage(`http://${g.host}:${g.port}/`);
    log(`wrk ${opts.connections} connections, ${opts.seconds} s: Kiln httpreply`);
    return runWrk(`http://${g.host}:${g.port}/`, wrkOpts);
  });
  const run = await http.stop(); // stopped already: its result
  const nativeHttp = await using(await startNginx(page!, await freePort()), (nginx) => {
    log(`wrk ${opts.connections} connections, ${opts.seconds} s: native nginx`);
    return runWrk(nginx.url, wrkOpts);
  });

  // TCP: both ways at once through echo, then each way alone; ping while a guest is up.
  const exe = buildNativeEchoServer();
  const tcp = {} as Record<TcpMode, { kiln: EchoThroughput; linux_loopback: EchoThroughput }>;
  let ping: NetBenchResult["ping_ms"];
  const modes: [TcpMode, number, string][] = [
    ["echo", 7, "echo"],
    ["discard", 9, "host to guest"],
    ["source", 19, "guest to host"],
  ];
  for (const [mode, guestPort, what] of modes) {
    const measure = (host: string, port: number) =>
      mode === "echo" ? echoThroughput(host, port, opts.echoBytes) : oneWay(host, port, opts.echoBytes, mode === "discard" ? "to" : "from");
    const kiln = await using(await startGuest("echo", guestPort, "tcp", opts, log, mode === "echo" ? [] : [mode]), async (g) => {
      log(`${opts.echoBytes} bytes ${what}: Kiln`);
      const r = await measure(g.host, g.port);
      if (mode === "discard" && g.mode === "tap") {
        log(`ping ${g.host}: Kiln`);
        ping = { kiln: await pingRtt(g.host), linux_loopback: await pingRtt("127.0.0.1") };
      }
      return r;
    });
    const port = await freePort();
    const linux = await using(await nativeEchoServer(exe, port, mode), () => {
      log(`${opts.echoBytes} bytes ${what}: Linux loopback`);
      return measure("127.0.0.1", port);
    });
    tcp[mode] = { kiln, linux_loopback: linux };
  }

  // UDP key-value
  const window = 16;
  const kilnKv = await using(await startGuest("udp-kv", 5000, "udp", opts, log), (kv) => {
    log(`udp-kv ${opts.seconds} s, ${window} requests outstanding: Kiln`);
    return udpKvLoad(kv.host, kv.port, { seconds: opts.seconds, window, keys: 1000 });
  });

  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const tcpFigure = (m: TcpMode) => ({ bytes: opts.echoBytes, ...tcp[m], ratio: ratio(tcp[m].kiln.mb_per_s, tcp[m].linux_loopback.mb_per_s) });
  return {
    runner: run.runner,
    ...(run.accel ? { accel: run.accel } : {}),
    emulated: run.accel === "tcg",
    net: http.mode ?? "unknown",
    http: { connections: opts.connections, seconds: opts.seconds, kiln: kilnHttp, nginx_native: nativeHttp, ratio: ratio(kilnHttp.req_per_s, nativeHttp.req_per_s) },
    tcp_echo: tcpFigure("echo"),
    tcp_to_guest: tcpFigure("discard"),
    tcp_from_guest: tcpFigure("source"),
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
