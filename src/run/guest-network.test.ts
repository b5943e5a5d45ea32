// Which network a run gets, and the errors when it cannot have one (no TAP needed: the TAP is
// replaced through the openTap seam; the real TAP is tested in src/vmm/net/tap.test.ts).
import { test } from "node:test";
import { strict as assert } from "node:assert";
import { KilnError } from "../errors.ts";
import { openGuestNetwork, USER_WORDS } from "./guest-network.ts";
import type { Tap } from "../vmm/net/tap.ts";
import { tapPlan } from "../vmm/net/tap.ts";

const p8080 = { hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80, proto: "tcp" as const };
const noTap = (): Tap => {
  throw new KilnError("cannot create a TAP device (Operation not permitted): a TAP device needs root or CAP_NET_ADMIN");
};
let closed = 0;
const fakeTap = (): Tap => ({ fd: 99, name: "kiln5", index: 5, plan: tapPlan(5), cmdlineWords: "net.ip=10.213.0.22/30 net.gw=10.213.0.21", close: () => void closed++ }) as unknown as Tap;

test("no network driver: no network, and -p or --net is an error that says why", async () => {
  assert.equal(await openGuestNetwork(false, undefined, "vmm"), undefined);
  assert.equal(await openGuestNetwork(false, { publish: [] }, "vmm"), undefined);
  await assert.rejects(openGuestNetwork(false, { publish: [p8080] }, "qemu"), /^KilnError: -p\/--net: this image has no network device\. Select virtio-net/);
  await assert.rejects(openGuestNetwork(false, { mode: "tap", publish: [] }, "vmm"), /^KilnError: -p\/--net: this image has no network device/);
});

test("default mode: a TAP where allowed; else user mode on QEMU, and on the VMM the error says what is needed", async () => {
  const nw = await openGuestNetwork(true, undefined, "vmm", { openTap: fakeTap, faultsEnv: "" });
  assert.equal(nw?.mode, "tap");
  assert.equal(nw?.words, "net.ip=10.213.0.22/30 net.gw=10.213.0.21");
  assert.equal(nw?.guestIp, "10.213.0.22");
  await nw!.close();
  await nw!.close();
  assert.equal(closed, 1, "close is idempotent");
  const user = await openGuestNetwork(true, { publish: [p8080] }, "qemu", { openTap: noTap, faultsEnv: "" });
  assert.equal(user?.mode, "user");
  assert.equal(user?.words, USER_WORDS);
  assert.equal(USER_WORDS, "net.ip=10.0.2.15/24 net.gw=10.0.2.2");
  await assert.rejects(openGuestNetwork(true, undefined, "vmm", { openTap: noTap }), /needs root or CAP_NET_ADMIN/);
  await assert.rejects(openGuestNetwork(true, { mode: "tap", publish: [] }, "qemu", { openTap: noTap }), /needs root or CAP_NET_ADMIN/, "tap asked for: no fallback");
  await assert.rejects(openGuestNetwork(true, { mode: "user", publish: [] }, "vmm"), /--net user is QEMU's user-mode network; Kiln's VMM networks over a TAP only/);
});

test("KILN_NET_FAULTS reaches the VMM's network; a bad value is refused before anything opens", async () => {
  const nw = await openGuestNetwork(true, undefined, "vmm", { openTap: fakeTap, faultsEnv: "loss=0.1,seed=4" });
  assert.deepEqual(nw?.faults, { loss: 0.1, reorder: 0, dup: 0, corrupt: 0, seed: 4 });
  await nw!.close();
  const before = closed;
  await assert.rejects(openGuestNetwork(true, undefined, "vmm", { openTap: fakeTap, faultsEnv: "loss=7" }), /KILN_NET_FAULTS: loss=7 is not a probability/);
  assert.equal(closed, before, "no TAP was made");
});
