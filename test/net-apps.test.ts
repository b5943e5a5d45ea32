// The network apps end to end: each image is built once, booted on QEMU with virtio-net on the
// user-mode network and a published port on a free host port, and reached from the host with
// Node's net/dgram/http and curl, as a client would. KVM where usable, else TCG
// (KILN_QEMU_ACCEL=tcg forces it); the same tests must pass on both.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../src/paths.ts";
import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import { buildFor } from "./lib/boot.ts";
import { runImage } from "../src/run/index.ts";
import type { PublishedPort } from "../src/run/net-options.ts";
import { freePort } from "../src/free-port.ts";

interface Server {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Boots app on QEMU with guestPort published on a free host port; resolves once it listens. */
async function startServer(app: string, guestPort: number, proto: "tcp" | "udp", listening: RegExp, args = ""): Promise<Server> {
  const { built, memory } = await buildFor(app);
  const port = await freePort(proto);
  const publish: PublishedPort[] = [{ hostAddress: "127.0.0.1", hostPort: port, guestPort, proto }];
  const abort = new AbortController();
  let out = "";
  let up: () => void = () => {};
  const isUp = new Promise<void>((resolve) => (up = resolve));
  const run = runImage(built.image, {
    runner: "qemu", // user-mode networking is QEMU's
    memory,
    cmdline: args ? `-- ${args}` : "",
    net: { mode: "user", publish },
    stop: abort.signal,
    timeoutMs: 300_000,
    onOutput: (text) => {
      out += text;
      if (listening.test(out)) up();
    },
  });
  const ended = run.then(
    (r) => (r.stopped ? "stopped" : `the server exited with status ${r.status}`),
    (e: unknown) => String(e),
  );
  const first = await Promise.race([isUp.then(() => "up"), ended, new Promise<string>((r) => setTimeout(() => r("no listening line after 60 s"), 60_000).unref())]);
  if (first !== "up") {
    abort.abort();
    throw new Error(`${app}: ${first}\n${out}`);
  }
  return {
    port,
    output: () => out,
    stop: async () => {
      abort.abort();
      await ended;
    },
  };
}

/** Polls get() every 20 ms for up to 10 s until it returns something. */
async function waitFor<T>(get: () => T | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("waitFor: nothing after 10 s");
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/**
 * A connection QEMU's user network has taken: its hostfwd socket listens with a backlog of 1
 * (`ss -ltn` shows it), so connections opened in a burst wait in the host kernel for seconds;
 * one byte echoed proves this one reached the guest. Then they can all run at once.
 */
function echoConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write("."));
    s.once("data", (d: Buffer) => (d.toString() === "." ? resolve(s) : reject(new Error(`echo: ${JSON.stringify(d.toString())} for "."`))));
    s.once("error", reject);
  });
}

/** Sends data, half-closes, and collects everything echoed until the end. */
function echoRoundTrip(s: net.Socket, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
    s.setTimeout(60_000, () => s.destroy(new Error(`echo: no progress for 60 s after ${Buffer.concat(chunks).length} bytes`)));
    s.end(data);
  });
}

/** Bytes that differ everywhere, so a lost, duplicated or reordered segment changes the hash. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe("apps/echo's one-way modes: discard (RFC 863) and source", () => {
  test("discard reads everything and closes after the client's end; source sends until the client goes", async () => {
    const { oneWay } = await import("../src/bench/tcp-echo.ts");
    const discard = await startServer("echo", 9, "tcp", /^echo: listening on tcp port 9$/m, "9 discard");
    try {
      const r = await oneWay("127.0.0.1", discard.port, 1_000_000, "to", 60_000);
      assert.equal(r.bytes, 1_000_000);
      // Nothing comes back from a discard server.
      const back = await new Promise<number>((resolve, reject) => {
        let n = 0;
        const c = net.connect(discard.port, "127.0.0.1", () => c.end("not echoed"));
        c.on("data", (d: Buffer) => (n += d.length));
        c.on("close", () => resolve(n));
        c.on("error", reject);
      });
      assert.equal(back, 0);
    } finally {
      await discard.stop();
    }
    const source = await startServer("echo", 19, "tcp", /^echo: listening on tcp port 19$/m, "19 source");
    try {
      const r = await oneWay("127.0.0.1", source.port, 1_000_000, "from", 60_000);
      assert.ok(r.mb_per_s > 0);
      // It goes on while the client reads: a second client gets data as well.
      assert.equal((await oneWay("127.0.0.1", source.port, 100_000, "from", 60_000)).bytes, 100_000);
    } finally {
      await source.stop();
    }
  });
});

describe("apps/echo over virtio-net (QEMU user network, published port)", () => {
  let srv: Server;
  before(async () => (srv = await startServer("echo", 7, "tcp", /^echo: listening on tcp port 7$/m, "7 stats")));
  after(() => srv?.stop());

  test("a small message comes back on the same connection, and a second one after it", async () => {
    const got = await new Promise<string>((resolve, reject) => {
      let text = "";
      const s = net.connect(srv.port, "127.0.0.1", () => s.write("hello\n"));
      s.on("data", (d: Buffer) => {
        text += d.toString();
        if (text === "hello\n") s.write("again\n");
        if (text === "hello\nagain\n") s.end();
      });
      s.on("end", () => resolve(text));
      s.on("error", reject);
    });
    assert.equal(got, "hello\nagain\n");
  });

  test("an idle server halts and the device's interrupt wakes it: requests after pauses are answered", async (t) => {
    const s = await echoConnect(srv.port);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 5));
      s.write("x");
      await new Promise((r) => s.once("data", r));
    }
    const before = srv.output().length;
    s.end();
    await new Promise((r) => s.once("close", r));
    const line = await waitFor(() => /^echo: virtio-net (.*)\n/m.exec(srv.output().slice(before))?.[1]);
    const c = Object.fromEntries(line.split(" ").map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)]));
    t.diagnostic(line);
    assert.ok(c.halts! >= 10, `the waits halted (${line})`);
    assert.ok(c.irq_wakes! >= 5, `most requests woke the CPU by interrupt, not by the timer (${line})`);
    assert.equal(c.device_errors, 0, line);
  });

  test("1 MB comes back intact (hashes compared)", async () => {
    const data = pattern(1 << 20, 7);
    const back = await echoRoundTrip(await echoConnect(srv.port), data);
    assert.equal(back.length, data.length);
    assert.equal(sha(back), sha(data));
  });

  test("8 connections at once, 128 KiB each, each gets its own bytes back", async () => {
    const datas = Array.from({ length: 8 }, (_v, i) => pattern(128 << 10, 100 + i));
    const socks: net.Socket[] = [];
    for (let i = 0; i < datas.length; i++) socks.push(await echoConnect(srv.port));
    const backs = await Promise.all(datas.map((d, i) => echoRoundTrip(socks[i]!, d)));
    backs.forEach((b, i) => assert.equal(sha(b), sha(datas[i]!), `connection ${i}`));
  });
});

function get(agent: http.Agent, port: number, method = "GET"): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders; reused: boolean; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/", method, agent }, (res) => {
      const chunks: Buffer[] = [];
      const localPort = res.socket.localPort ?? 0; // the agent takes the socket back at the end
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers, reused: req.reusedSocket, localPort }));
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error("http: no answer in 30 s")));
    req.end();
  });
}

describe("apps/httpreply over virtio-net (QEMU user network, published port)", () => {
  let srv: Server;
  before(async () => (srv = await startServer("httpreply", 80, "tcp", /^httpreply: listening on tcp port 80$/m)));
  after(() => srv?.stop());

  test("GETs on one kept-alive connection each return the same 612-byte page", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent, srv.port);
      assert.equal(first.status, 200);
      assert.equal(first.body.length, 612);
      assert.equal(first.headers["content-length"], "612");
      assert.equal(first.headers["connection"], "keep-alive");
      assert.match(first.body.toString(), /^<!DOCTYPE html>\n[\s\S]*<\/html>\n$/);
      for (let i = 0; i < 20; i++) {
        const r = await get(agent, srv.port);
        assert.equal(r.status, 200);
        assert.ok(r.reused, `request ${i + 2} went over the kept-alive connection`);
        assert.ok(r.body.equals(first.body));
      }
    } finally {
      agent.destroy();
    }
  });

  test("40 kept-alive connections at once, 120 GETs over them; a POST gets 405", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 40 });
    try {
      // Opened one by one (QEMU's hostfwd listens with a backlog of 1, see echoConnect), then
      // all 40 used at once: the agent reuses the free sockets.
      for (let i = 0; i < 40; i++) {
        const pending = Array.from({ length: i + 1 }, () => get(agent, srv.port));
        assert.ok((await Promise.all(pending)).every((r) => r.status === 200));
      }
      const rs = await Promise.all(Array.from({ length: 120 }, () => get(agent, srv.port)));
      assert.ok(rs.every((r) => r.status === 200 && r.body.length === 612));
      assert.equal(new Set(rs.map((r) => r.localPort)).size, 40, "all 40 connections served requests");
      const post = await get(agent, srv.port, "POST");
      assert.equal(post.status, 405);
      assert.equal(post.headers["allow"], "GET, HEAD");
    } finally {
      agent.destroy();
    }
  });

  test("curl: two URLs over one connection, 612 bytes each; HTTP/1.0 without keep-alive is closed", { skip: spawnSync("curl", ["--version"]).status === 0 ? false : "curl is not installed" }, () => {
    const url = `http://127.0.0.1:${srv.port}/`;
    const r = spawnSync("curl", ["-sS", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{num_connects}\n", url, url], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["200 612 1", "200 612 0"], "the second transfer reused the connection");
    const old = spawnSync("curl", ["-sS", "--http1.0", "-D", "-", "-o", "/dev/null", url], { encoding: "utf8", timeout: 30_000 });
    assert.equal(old.status, 0, old.stderr);
    assert.match(old.stdout, /^Connection: close\r$/m);
  });
});

describe("apps/udp-kv over virtio-net (QEMU user network, published port)", () => {
  let srv: Server;
  let sock: dgram.Socket;
  before(async () => {
    srv = await startServer("udp-kv", 5000, "udp", /^udp-kv: listening on udp port 5000$/m);
    sock = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  });
  after(async () => {
    sock?.close();
    await srv?.stop();
  });

  /** One request, one reply; UDP may lose either, so a request is sent again after 1 s. */
  async function ask(req: string): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const reply = await new Promise<string | undefined>((resolve) => {
        const t = setTimeout(() => {
          sock.off("message", on);
          resolve(undefined);
        }, 1000);
        const on = (m: Buffer) => {
          clearTimeout(t);
          sock.off("message", on);
          resolve(m.toString("latin1"));
        };
        sock.on("message", on);
        sock.send(Buffer.from(req, "latin1"), srv.port, "127.0.0.1");
      });
      if (reply !== undefined) return reply;
    }
    throw new Error(`udp-kv: no reply to ${JSON.stringify(req)}`);
  }

  test("SET then GET returns the value; DEL removes it; bad requests get an ERROR", async () => {
    assert.equal(await ask("GET greeting"), "NOT_FOUND");
    assert.equal(await ask("SET greeting hello, world"), "OK");
    assert.equal(await ask("GET greeting"), "VALUE hello, world");
    assert.equal(await ask("SET greeting again\n"), "OK");
    assert.equal(await ask("GET greeting"), "VALUE again");
    assert.equal(await ask("DEL greeting"), "OK");
    assert.equal(await ask("GET greeting"), "NOT_FOUND");
    assert.equal(await ask("DEL greeting"), "NOT_FOUND");
    assert.equal(await ask("PUT x y"), "ERROR unknown command");
    assert.equal(await ask(`SET ${"k".repeat(251)} v`), "ERROR bad key");
    assert.equal(await ask(`SET big ${"v".repeat(1401)}`), "ERROR value too long");
    const big = "v".repeat(1400);
    assert.equal(await ask(`SET big ${big}`), "OK");
    assert.equal(await ask("GET big"), `VALUE ${big}`);
  });

  test("500 keys set and read back (deletes in between keep the probe runs intact)", async () => {
    for (let i = 0; i < 500; i++) assert.equal(await ask(`SET key${i} value-${i}`), "OK");
    for (let i = 0; i < 500; i += 3) assert.equal(await ask(`DEL key${i}`), "OK");
    for (let i = 0; i < 500; i++) assert.equal(await ask(`GET key${i}`), i % 3 === 0 ? "NOT_FOUND" : `VALUE value-${i}`);
  });
});

test("kiln run -p HOST:GUEST/udp --net user publishes the port (the CLI's wiring, end to end)", async () => {
  await buildFor("udp-kv"); // built already by the suite above, or now
  const port = await freePort("udp");
  const child = spawn(process.execPath, [path.join(repoRoot, "bin/kiln.js"), "run", path.join(repoRoot, "apps", "udp-kv"), "--runner", "qemu", "-q", "--net", "user", "-p", `${port}:5000/udp`, "--timeout", "120"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => (out += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (out += t));
  const sock = dgram.createSocket("udp4");
  try {
    await waitFor(() => (/^udp-kv: listening on udp port 5000$/m.test(out) ? true : child.exitCode !== null ? (() => { throw new Error(out); })() : undefined));
    const reply = await new Promise<string>((resolve, reject) => {
      const again = setInterval(() => sock.send("GET nothing", port, "127.0.0.1"), 1000);
      sock.once("message", (m) => {
        clearInterval(again);
        resolve(m.toString());
      });
      sock.once("error", reject);
      sock.send("GET nothing", port, "127.0.0.1");
    });
    assert.equal(reply, "NOT_FOUND");
  } finally {
    sock.close();
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(0) : child.once("close", r)));
  }
  // SIGTERM to kiln stopped its QEMU too (it used to be left running, orphaned).
  const left = spawnSync("pgrep", ["-f", `hostfwd=udp:127.0.0.1:${port}-`], { encoding: "utf8" });
  assert.equal(left.stdout.trim(), "", "no QEMU left behind");
});
