// Helpers for the stack's host tests: build the host harness (the stack compiled natively under
// ASan/UBSan), make a network namespace with a TAP device for it, run it and Linux peers there.
// Every namespace is private to a test and deleted afterwards, even on failure; traffic stays in
// 10.200.N.0/24 inside it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const libRoot = path.resolve(here, "../..");
const libs = ["netdev", "net-eth", "net-ipv4", "net-udp", "net-tcp", "net", "test"];
export const stackSources = ["netdev/netdev.c", "net-eth/eth.c", "net-ipv4/ipv4.c", "net-udp/udp.c", "net-tcp/tcp.c", "net/stack.c", "net/socket.c"].map((f) =>
  path.join(libRoot, f),
);

/** Compiles a host program from the stack's sources plus `mains` (ASan + UBSan, -Werror). */
export function compileHost(out: string, mains: string[], extra: string[] = []): void {
  execFileSync(
    "gcc",
    [
      "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1",
      "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
      // Guest KTEST files run on the host through this header (constructor registration).
      `-I${path.join(here, "host/ktest_shim")}`,
      ...libs.map((l) => `-I${path.join(libRoot, l, "include")}`),
      ...extra,
      ...mains.map((m) => path.join(here, m)),
      path.join(here, "host/host_env.c"),
      ...stackSources,
      "-o", out,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
}

/** Why namespaces cannot be used here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "needs root (ip netns, /dev/net/tun)";
  const name = `kn-probe-${process.pid}`;
  const r = spawnSync("ip", ["netns", "add", name]);
  if (r.status !== 0) return `ip netns add failed: ${r.stderr}`;
  spawnSync("ip", ["netns", "del", name]);
  if (spawnSync("python3", ["-c", "pass"]).status !== 0) return "python3 not installed";
  return null;
}

let counter = 0;

export interface Netns {
  name: string;
  linuxIp: string;
  stackIp: string;
  tap: string;
  /** Runs a Python 3 script inside the namespace; resolves with its stdout (rejects on failure). */
  python(script: string, timeoutMs?: number): Promise<string>;
  /** Starts a Python server; resolves once it printed LISTENING, with its final output. */
  pythonServer(script: string, timeoutMs?: number, marker?: string | null): Promise<{ done: Promise<string> }>;
  /** Starts the harness inside the namespace; resolves once it printed READY. */
  harness(exe: string, args: string[]): Promise<Harness>;
  destroy(): void;
}

export interface Harness {
  proc: ChildProcess;
  /** Resolves with the harness's whole stdout and its exit status once it exits. */
  done: Promise<{ status: number | null; out: string; err: string }>;
}

/** A namespace with lo up and a TAP device at 10.200.N.1/24; the stack gets 10.200.N.2. */
export function makeNetns(): Netns {
  const n = (process.pid % 200) + 1;
  const name = `kn-${process.pid}-${counter++}`;
  const linuxIp = `10.200.${n}.1`;
  const stackIp = `10.200.${n}.2`;
  const tap = "ktap0";
  const ip = (...a: string[]) => execFileSync("ip", a, { stdio: ["ignore", "pipe", "pipe"] });
  ip("netns", "add", name);
  try {
    ip("-n", name, "link", "set", "lo", "up");
    ip("-n", name, "tuntap", "add", "dev", tap, "mode", "tap");
    ip("-n", name, "addr", "add", `${linuxIp}/24`, "dev", tap);
    ip("-n", name, "link", "set", tap, "up");
  } catch (e) {
    spawnSync("ip", ["netns", "del", name]);
    throw e;
  }
  const children: ChildProcess[] = [];
  return {
    name, linuxIp, stackIp, tap,
    python(script, timeoutMs = 60_000) {
      return this.pythonServer(script, timeoutMs, null).then((p) => p.done);
    },
    pythonServer(script: string, timeoutMs = 60_000, marker: string | null = "LISTENING\n") {
      return new Promise((resolveStarted, rejectStarted) => {
        const p = spawn("ip", ["netns", "exec", name, "python3", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
        children.push(p);
        let out = "", err = "", started = marker === null;
        const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
        const done = new Promise<string>((resolve, reject) => {
          p.on("close", (code) => {
            clearTimeout(t);
            if (code === 0) resolve(out);
            else reject(new Error(`python exited ${code}:\n${out}${err}`));
          });
        });
        if (started) resolveStarted({ done });
        else done.catch(rejectStarted);
        p.stdout.on("data", (d) => {
          out += d;
          if (!started && marker && out.includes(marker)) {
            started = true;
            resolveStarted({ done });
          }
        });
        p.stderr.on("data", (d) => (err += d));
      });
    },
    harness(exe, args) {
      return new Promise((resolve, reject) => {
        const p = spawn("ip", ["netns", "exec", name, exe, "--tap", tap, "--ip", stackIp, ...args], {
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS: "print_stacktrace=1" },
        });
        children.push(p);
        let out = "", err = "", ready = false;
        const done = new Promise<{ status: number | null; out: string; err: string }>((res) =>
          p.on("close", (status) => res({ status, out, err })),
        );
        p.stdout.on("data", (d) => {
          out += d;
          if (!ready && out.includes("READY\n")) {
            ready = true;
            resolve({ proc: p, done });
          }
        });
        p.stderr.on("data", (d) => (err += d));
        done.then((r) => {
          if (!ready) reject(new Error(`harness exited ${r.status} before READY:\n${r.out}${r.err}`));
        });
      });
    },
    destroy() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      spawnSync("ip", ["netns", "del", name]);
    },
  };
}

/** key=value pairs from the harness's "RESULT"/"STATS" lines (later lines win). */
export function fields(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of out.split("\n")) {
    if (!line.startsWith("RESULT") && !line.startsWith("STATS")) continue;
    const prefix = line.startsWith("STATS") ? line.split(" ")[1] + "." : "";
    for (const m of line.matchAll(/(\w+)=(\S+)/g)) r[prefix + m[1]] = m[2] ?? "";
  }
  return r;
}
