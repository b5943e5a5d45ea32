// The fast `kiln run` end to end: the C client (src/serve/client.c) against the helper
// (`kiln serve`), compared with the plain CLI (`node bin/kiln.js run`). Each test has its own
// private socket directory ($KILN_SERVE_DIR), so no helper of the user's is involved.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, utimesSync } from "node:fs";
import { createConnection } from "node:net";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../paths.ts";
import { kvmAvailable } from "../vmm/available.ts";
import { buildFor } from "../../test/lib/boot.ts";
import { checkoutKey } from "./socket-path.ts";
import { frame, takeFrames } from "./protocol.ts";

const kvm = kvmAvailable();
const gcc = spawnSync("gcc", ["--version"]).status === 0;
const skip = !kvm.ok ? `the helper runs on Kiln's VMM, which needs KVM: ${kvm.reason}` : !gcc ? "no gcc to build the client" : false;

const tmp = mkdtempSync(path.join(os.tmpdir(), "kiln-serve-test-"));
const client = path.join(tmp, "kiln-client");
let hello = "";
let fault = "";

before(async () => {
  if (gcc) {
    const cc = spawnSync("gcc", ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", client, path.join(repoRoot, "src/serve/client.c")], { encoding: "utf8" });
    assert.equal(cc.status, 0, cc.stderr);
  }
  // Relative to the checkout, as a user types them (the messages name them so).
  hello = path.relative(repoRoot, (await buildFor("helloworld")).built.image);
  fault = path.relative(repoRoot, (await buildFor("fault")).built.image);
});

const helpers: ChildProcess[] = [];
after(() => {
  for (const h of helpers) if (h.exitCode === null) h.kill("SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
});

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function privateDir(): string {
  const d = mkdtempSync(path.join(tmp, "sock-"));
  chmodSync(d, 0o700);
  return d;
}

const envFor = (dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, KILN_SERVE_DIR: dir, KILN_SERVE_IDLE: "60", ...extra });

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd = repoRoot): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const viaClient = (args: string[], env: NodeJS.ProcessEnv, cwd?: string) => run(client, [repoRoot, "run", ...args], env, cwd);
const plain = (args: string[], env: NodeJS.ProcessEnv, cwd?: string) => run(process.execPath, [path.join(repoRoot, "bin/kiln.js"), "run", ...args], env, cwd);

/** A helper started by hand (-v: it logs what it serves), once it listens. */
async function startHelper(env: NodeJS.ProcessEnv, idle = "60"): Promise<{ proc: ChildProcess; log: () => string; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, [path.join(repoRoot, "bin/kiln.js"), "serve", "-v", "--idle", idle], { cwd: repoRoot, env, stdio: ["ignore", "ignore", "pipe"] });
  helpers.push(proc);
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const listening = new Promise<void>((resolve, reject) => {
    proc.stderr!.on("data", () => log.includes("listening on") && resolve());
    void exited.then((code) => reject(new Error(`kiln serve exited (${code}) before listening: ${log}`)));
  });
  await listening;
  return { proc, log: () => log, exited };
}

const servedCount = (log: string) => (log.match(/^served: /gm) ?? []).length;

test("a good image, a bad path and a failing guest: the same stdout, stderr and status as the plain CLI, served by the helper", { skip }, async () => {
  const env = envFor(privateDir());
  const h = await startHelper(env);
  const cases = [[hello, "-q", "--", "one", "two"], ["no/such/image.elf"], [fault, "-q"], [hello, "--timeout", "nope"]];
  for (const args of cases) {
    const want = await plain(args, env);
    const got = await viaClient(args, env);
    assert.deepEqual(got, want, `kiln run ${args.join(" ")}`);
  }
  assert.equal(servedCount(h.log()), cases.length, h.log());
  // Sanity: these are the cases they claim to be.
  const [good, , bad] = await Promise.all(cases.slice(0, 3).map((a) => viaClient(a, env)));
  assert.equal(good!.status, 0);
  assert.match(good!.stdout, /Hello, world!/);
  assert.equal(bad!.status, 255);
  assert.match(bad!.stdout + bad!.stderr, /fatal/);
});

test("the client's working directory is the run's, not the helper's", { skip }, async () => {
  const env = envFor(privateDir());
  const h = await startHelper(env);
  const cwd = path.dirname(path.resolve(repoRoot, hello));
  const got = await viaClient(["image.elf", "-q"], env, cwd);
  assert.deepEqual(got, await plain(["image.elf", "-q"], env, cwd));
  assert.equal(got.status, 0);
  assert.equal(servedCount(h.log()), 1, h.log());
});

test("two concurrent runs each get their own output, each in its own VM", { skip }, async () => {
  const env = envFor(privateDir());
  const h = await startHelper(env);
  const runs = await Promise.all(["alpha", "beta", "gamma"].map((word) => viaClient([hello, "-q", "--", word], env)));
  for (const [i, word] of ["alpha", "beta", "gamma"].entries()) {
    assert.equal(runs[i]!.status, 0, runs[i]!.stderr);
    assert.match(runs[i]!.stdout, new RegExp(`arg 1: ${word}\\n`));
    for (const other of ["alpha", "beta", "gamma"].filter((w) => w !== word)) assert.doesNotMatch(runs[i]!.stdout, new RegExp(other));
  }
  assert.equal(servedCount(h.log()), 3, h.log());
});

test("the helper exits when idle and removes its socket", { skip }, async () => {
  const dir = privateDir();
  const env = envFor(dir);
  const h = await startHelper(env, "1");
  assert.equal((await viaClient([hello, "-q"], env)).status, 0);
  assert.equal(await h.exited, 0, h.log());
  assert.equal(existsSync(path.join(dir, `${checkoutKey(repoRoot)}.sock`)), false);
});

test("a helper older than the sources is not used: it exits, the run takes the plain path", { skip }, async () => {
  const env = envFor(privateDir(), { KILN_NO_HELPER_START: "1" });
  const h = await startHelper(env);
  const src = path.join(repoRoot, "src/serve/socket-path.ts");
  const was = statSync(src);
  try {
    utimesSync(src, new Date(), new Date()); // a source edited after the helper's code was built
    const got = await viaClient([hello, "-q", "--", "fresh"], env);
    assert.equal(got.status, 0, got.stderr);
    assert.match(got.stdout, /arg 1: fresh/);
    assert.equal(await h.exited, 0);
    assert.equal(servedCount(h.log()), 0, h.log());
    assert.match(h.log(), /newer than this helper's code/);
  } finally {
    utimesSync(src, was.atime, was.mtime);
  }
});

/** Sends raw bytes as a client would and collects the frames answered until the helper closes. */
function rawRequest(sock: string, bytes: Buffer): Promise<Array<{ type: string; body: string }>> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock, () => c.end(bytes));
    let buf = Buffer.alloc(0);
    c.on("data", (d: Buffer) => (buf = Buffer.concat([buf, d])));
    c.on("error", reject);
    c.on("close", () => resolve(takeFrames(buf, 1 << 24).frames.map((f) => ({ type: f.type, body: f.body.toString() }))));
  });
}

const fields = (...f: string[]) => frame("R", f.map((x) => x + "\0").join(""));

test("a malformed request is refused with a one-line reason and the helper keeps serving", { skip }, async () => {
  const dir = privateDir();
  const env = envFor(dir);
  const h = await startHelper(env);
  const sock = path.join(dir, `${checkoutKey(repoRoot)}.sock`);
  // A connection that sends nothing holds no one up meanwhile.
  const idle = createConnection(sock);
  idle.on("error", () => {});
  const bad: Buffer[] = [
    Buffer.from("garbage that is no frame at all"),
    fields("kiln-serve 999", "0", "/", "000", "0", "run"),
    fields("kiln-serve 1", "notanumber", "/", "000", "0", "run"),
    fields("kiln-serve 1", "0", "relative", "000", "0", "run"),
    fields("kiln-serve 1", "0", "/", "000", "99", "run"),
    frame("Q", "x"),
    Buffer.concat([Buffer.from("R"), Buffer.from([0xff, 0xff, 0xff, 0x7f])]),
  ];
  for (const b of bad) {
    const answer = await rawRequest(sock, b);
    assert.equal(answer.length, 2, JSON.stringify(answer));
    assert.equal(answer[0]!.type, "E");
    assert.match(answer[0]!.body, /^kiln serve: malformed request: [^\n]+\n$/);
    assert.deepEqual(answer[1], { type: "X", body: "2" });
  }
  const good = await viaClient([hello, "-q", "--", "after"], env);
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /arg 1: after/);
  idle.destroy();
  assert.equal(servedCount(h.log()), 1, h.log());
  assert.equal(h.proc.exitCode, null, "still running");
});

test("without a helper the client runs the plain way and starts one for the next run", { skip: gcc ? false : "no gcc to build the client" }, async () => {
  const dir = privateDir();
  const env = envFor(dir, { KILN_SERVE_IDLE: "5" });
  const got = await viaClient([hello, "-q", "--", "first"], env);
  assert.equal(got.status, 0, got.stderr);
  assert.match(got.stdout, /arg 1: first/);
  const sock = path.join(dir, `${checkoutKey(repoRoot)}.sock`);
  if (!kvm.ok) return; // no KVM: the helper refuses to start, and every run stays plain (as this one)
  for (let t = Date.now(); !existsSync(sock); await new Promise((r) => setTimeout(r, 50))) assert.ok(Date.now() - t < 60_000, "a helper was started");
  const second = await viaClient([hello, "-q", "--", "second"], env);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /arg 1: second/);
});

test("KILN_NO_SERVE=1, another environment or --runner qemu: the plain path", { skip: gcc ? false : "no gcc to build the client" }, async () => {
  const dir = privateDir();
  const env = envFor(dir, { KILN_NO_HELPER_START: "1" });
  const h = kvm.ok ? await startHelper(env) : undefined;
  const off = await viaClient([hello, "-q"], { ...env, KILN_NO_SERVE: "1" });
  assert.equal(off.status, 0, off.stderr);
  const other = await viaClient([hello, "-q"], { ...env, NO_COLOR: "1" });
  assert.equal(other.status, 0, other.stderr);
  assert.match(other.stdout, /Hello, world!/);
  const qemu = await viaClient([hello, "-q", "--runner", "qemu"], env);
  assert.equal(qemu.status, 0, qemu.stderr);
  assert.match(qemu.stdout, /Hello, world!/);
  if (h) {
    assert.equal(servedCount(h.log()), 0, h.log());
    assert.match(h.log(), /^plain: .*"qemu"/m, "the helper handed --runner qemu back");
  }
});

/** Runs until the guest has printed `mark`, then sends `signal`; resolves with the exit status. */
function stopWhenSeen(file: string, args: string[], env: NodeJS.ProcessEnv, mark: string, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes(mark)) child.kill(signal);
    });
    child.on("error", reject);
    child.on("exit", (code, sig) => resolve(code ?? (sig ? 128 + os.constants.signals[sig] : null)));
  });
}

test("SIGTERM to the client stops its guest in the helper: status 137, as the plain CLI", { skip }, async () => {
  const env = envFor(privateDir());
  const h = await startHelper(env);
  const image = path.relative(repoRoot, (await buildFor("virtio-console")).built.image);
  const args = ["run", image, "-q", "--", "echo"];
  const plainStatus = await stopWhenSeen(process.execPath, [path.join(repoRoot, "bin/kiln.js"), ...args], env, "type a line", "SIGTERM");
  const fastStatus = await stopWhenSeen(client, [repoRoot, ...args], env, "type a line", "SIGTERM");
  assert.equal(plainStatus, 137);
  assert.equal(fastStatus, 137);
  assert.match(h.log(), /^served: .*"echo"\] -> 137$/m, h.log());
});

const hasScript = spawnSync("script", ["--version"]).status === 0;

test("a terminal's input reaches the guest through the helper", { skip: skip || (hasScript ? false : "no script(1) to give the client a terminal") }, async () => {
  const env = envFor(privateDir());
  const h = await startHelper(env);
  const image = path.relative(repoRoot, (await buildFor("virtio-console")).built.image);
  // script(1) runs the client on a pseudo-terminal and copies its own stdin into it.
  const child = spawn("script", ["-qfec", `'${client}' '${repoRoot}' run '${image}' -q -- echo`, "/dev/null"], { cwd: repoRoot, env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const status = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("type a line")) child.stdin.write("typed here\r");
  });
  assert.equal(await status, 0, out);
  assert.match(out, /echo: typed here/);
  assert.match(h.log(), /^served: .*"echo"\] -> 0$/m, h.log());
});

test("an app directory is served where the helper's working directory is the client's", { skip }, async () => {
  const env = envFor(privateDir());
  const h = await startHelper(env); // started in the checkout, as the tests run
  const args = ["apps/helloworld", "-q", "--", "app"];
  const got = await viaClient(args, env);
  assert.deepEqual(got, await plain(args, env));
  assert.match(got.stdout, /arg 1: app/);
  const elsewhere = await viaClient([path.join(repoRoot, "apps/helloworld"), "-q"], env, os.tmpdir());
  assert.equal(elsewhere.status, 0, elsewhere.stderr);
  assert.equal(servedCount(h.log()), 1, h.log());
  assert.match(h.log(), /^plain: .*apps\/helloworld/m);
});

test("kiln serve without KVM refuses with the reason", { skip: kvm.ok ? "KVM is usable here" : false }, () => {
  const r = spawnSync(process.execPath, [path.join(repoRoot, "bin/kiln.js"), "serve"], { encoding: "utf8", env: envFor(privateDir()) });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /kiln serve: .*the helper runs images on Kiln's VMM only/);
});

test("bin/kiln runs every other command through node bin/kiln.js", () => {
  const r = spawnSync(path.join(repoRoot, "bin/kiln"), ["--version"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, spawnSync(process.execPath, [path.join(repoRoot, "bin/kiln.js"), "--version"], { encoding: "utf8" }).stdout);
});
