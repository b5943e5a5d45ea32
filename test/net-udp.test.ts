// apps/udp-kv reached through a published UDP port (-p HOST:5000/udp): on a TAP the kiln
// process relays datagrams (one upstream socket per client), on QEMU's user mode hostfwd does.
// Two clients at once must each get their own replies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { buildFor } from "./lib/boot.ts";
import { freePort } from "../src/free-port.ts";
import { kilnTaps, ownTaps, tapWhy, tunFds } from "../src/vmm/testing/taps.ts";
import { runImage, type RunnerName } from "../src/run/index.ts";
import type { NetMode } from "../src/run/net-options.ts";
import { kvmAvailable } from "../src/vmm/index.ts";

/** One request, retried every 300 ms while the guest boots; the reply text. */
async function ask(port: number, text: string): Promise<string> {
  const c = createSocket("udp4");
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const reply = new Promise<string | undefined>((r) => {
        const t = setTimeout(() => r(undefined), 300);
        c.once("message", (m) => (clearTimeout(t), r(m.toString())));
      });
      c.send(text, port, "127.0.0.1");
      const got = await reply;
      if (got !== undefined) return got;
      if (Date.now() > deadline) throw new Error(`no reply to ${JSON.stringify(text)} within 60 s`);
    }
  } finally {
    c.close();
  }
}

const cases: Array<{ runner: RunnerName; mode: NetMode; skip?: string | boolean }> = [
  { runner: "vmm", mode: "tap", skip: !kvmAvailable().ok ? "no KVM" : tapWhy },
  { runner: "qemu", mode: "tap", skip: tapWhy },
  { runner: "qemu", mode: "user" },
];

for (const { runner, mode, skip } of cases) {
  test(`apps/udp-kv through -p .../udp on ${runner} (${mode}): SET, GET, DEL from two clients`, { skip: skip ?? false, timeout: 180_000 }, async () => {
    const { built, memory, cmdline } = await buildFor("udp-kv");
    const hostPort = await freePort();
    let ours: string[] = [];
    const stop = new AbortController();
    const running = runImage(built.image, {
      runner, memory, cmdline, timeoutMs: 170_000, stop: stop.signal,
      net: { mode, publish: [{ hostAddress: "127.0.0.1", hostPort, guestPort: 5000, proto: "udp" }] },
    });
    try {
      assert.equal(await ask(hostPort, "SET a hello there"), "OK");
      ours = ownTaps();
      assert.equal(ours.length, mode === "tap" ? 1 : 0);
      assert.deepEqual(await Promise.all([ask(hostPort, "GET a"), ask(hostPort, "SET b 2"), ask(hostPort, "GET nothing")]), ["VALUE hello there", "OK", "NOT_FOUND"]);
      assert.equal(await ask(hostPort, "DEL a"), "OK");
      assert.equal(await ask(hostPort, "GET a"), "NOT_FOUND");
    } finally {
      stop.abort();
    }
    const r = await running;
    assert.equal(r.stopped, true, r.output);
    assert.deepEqual(kilnTaps().filter((n) => ours.includes(n)), [], "the run's TAP is gone");
    assert.equal(tunFds(), 0);
  });
}
