// RunOptions.stop: a guest that never exits by itself (a server) is stopped by its caller, on
// both runners, and the run resolves (stopped, status 137) instead of failing or hanging.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildFor } from "./lib/boot.ts";
import { runImage, type RunnerName } from "../src/run/index.ts";
import { composeCmdline } from "../src/run/cmdline.ts";
import { kvmAvailable } from "../src/vmm/index.ts";

const runners: RunnerName[] = kvmAvailable().ok ? ["qemu", "vmm"] : ["qemu"];

for (const runner of runners) {
  test(`stop ends a guest waiting for input (${runner}), and before the start too`, async () => {
    const { built, memory, cmdline } = await buildFor("virtio-console");
    const stop = new AbortController();
    let seen = "";
    const running = runImage(built.image, {
      runner,
      memory,
      cmdline: composeCmdline(cmdline, [], ["echo"]),
      timeoutMs: 60_000,
      stop: stop.signal,
      onOutput: (t) => {
        seen += t;
        if (seen.includes("type a line")) stop.abort();
      },
    });
    const r = await running;
    assert.equal(r.stopped, true, r.output);
    assert.equal(r.status, 137);
    assert.match(r.output, /type a line/);
    const early = new AbortController();
    early.abort();
    const r2 = await runImage(built.image, { runner, memory, cmdline, timeoutMs: 60_000, stop: early.signal });
    assert.equal(r2.stopped, true);
  });
}
