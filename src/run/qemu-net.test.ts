// QEMU's network arguments: the run's TAP as fd 3 (with the plan's MAC), or the user-mode
// network with published ports as hostfwd rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openGuestNetwork } from "./guest-network.ts";
import { qemuNetArgs, qemuStdio } from "./qemu-net.ts";
import { tapPlan, type Tap } from "../vmm/net/tap.ts";

const p8080 = { hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80, proto: "tcp" as const };
const fakeTap = (): Tap => ({ fd: 99, name: "kiln5", index: 5, plan: tapPlan(5), cmdlineWords: "net.ip=10.213.0.22/30 net.gw=10.213.0.21", close: () => {} }) as unknown as Tap;

test("the TAP as fd 3 with the plan's MAC, or user mode with one hostfwd per published port", async () => {
  const nw = await openGuestNetwork(true, undefined, "qemu", { openTap: fakeTap, faultsEnv: "" });
  assert.deepEqual(qemuNetArgs(nw!), ["-netdev", "tap,id=net0,fd=3", "-device", "virtio-net-device,netdev=net0,mac=02:6b:69:6c:00:05"]);
  assert.deepEqual(qemuStdio(nw, "ignore"), ["ignore", "pipe", "pipe", 99]);
  await nw!.close();
  const user = await openGuestNetwork(true, { mode: "user", publish: [p8080, { ...p8080, hostAddress: "0.0.0.0", hostPort: 5353, guestPort: 53, proto: "udp" }] }, "qemu");
  assert.deepEqual(qemuNetArgs(user!), ["-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80,hostfwd=udp:0.0.0.0:5353-10.0.2.15:53", "-device", "virtio-net-device,netdev=net0"]);
  assert.deepEqual(qemuStdio(user, "inherit"), ["inherit", "pipe", "pipe"]);
});

test("user mode without published ports: the device on a bare -netdev user, the contract's addresses", async () => {
  const nw = await openGuestNetwork(true, { mode: "user", publish: [] }, "qemu");
  assert.deepEqual(qemuNetArgs(nw!), ["-netdev", "user,id=net0", "-device", "virtio-net-device,netdev=net0"]);
  assert.equal(nw!.words, "net.ip=10.0.2.15/24 net.gw=10.0.2.2");
});
