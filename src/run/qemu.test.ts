import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseAccel, qemuArgs, qemuMemoryArg } from "./qemu.ts";
import { openGuestNetwork } from "./guest-network.ts";

test("memory sizes map to QEMU units", () => {
  assert.equal(qemuMemoryArg(2 * 1024 * 1024), "2M");
  assert.equal(qemuMemoryArg(1536 * 1024), "1536K");
});

test("qemu args: microvm without extras, exit device, accelerator choice", () => {
  const kvm = qemuArgs("img", { memory: 4 << 20, cmdline: "a -- b", accel: "kvm" });
  assert.ok(kvm.includes("isa-debug-exit,iobase=0x501,iosize=1"));
  assert.deepEqual(kvm.slice(kvm.indexOf("-append"), kvm.indexOf("-append") + 2), ["-append", "a -- b"]);
  assert.ok(kvm.includes("host,-arch-capabilities"), "plain -cpu host aborts on this machine's KVM");
  const tcg = qemuArgs("img", { memory: 4 << 20, cmdline: "", accel: "tcg" });
  assert.ok(!tcg.includes("-append"));
  assert.ok(tcg.includes("tcg"));
  assert.ok(!tcg.includes("-initrd"));
  const withRootfs = qemuArgs("img", { memory: 4 << 20, cmdline: "", accel: "tcg", initrd: "build/x/initrd.cpio" });
  assert.deepEqual(withRootfs.slice(withRootfs.indexOf("-initrd"), withRootfs.indexOf("-initrd") + 2), ["-initrd", "build/x/initrd.cpio"]);
});

test("KILN_QEMU_ACCEL forces an accelerator; an explicit one wins; a bad value is an error", () => {
  assert.equal(chooseAccel(undefined, "tcg"), "tcg");
  assert.equal(chooseAccel(undefined, "kvm"), "kvm");
  assert.equal(chooseAccel("tcg", "kvm"), "tcg");
  assert.throws(() => chooseAccel(undefined, "hvf"), /KILN_QEMU_ACCEL: unknown accelerator "hvf"\. Use kvm or tcg\./);
});

test("qemu args: an image asking for virtio-console gets a modern virtconsole sharing stdio with the UART", () => {
  const plain = qemuArgs("img", { memory: 4 << 20, cmdline: "", accel: "tcg", devices: [] });
  assert.ok(plain.includes("stdio") && !plain.some((a) => a.includes("virt")));
  const v = qemuArgs("img", { memory: 4 << 20, cmdline: "", accel: "tcg", devices: ["virtio-console"] });
  assert.match(v[v.indexOf("-M") + 1]!, /,acpi=off$/, "microvm announces virtio-mmio devices on the command line only without ACPI");
  assert.ok(v.includes("virtio-mmio.force-legacy=false"), "version 2 transports");
  assert.ok(v.includes("virtio-serial-device") && v.includes("virtconsole,chardev=con"));
  assert.deepEqual(v.slice(v.indexOf("-serial"), v.indexOf("-serial") + 2), ["-serial", "chardev:con"]);
});

test("qemu args: an image asking for virtio-net gets a modern virtio-net-device and its net.* words before the app's arguments", async () => {
  const nw = await openGuestNetwork(true, { mode: "user", publish: [{ hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80, proto: "tcp" }] }, "qemu");
  const v = qemuArgs("img", { memory: 4 << 20, cmdline: "boot.stats=1 -- hello", accel: "tcg", devices: ["virtio-net"], net: nw! });
  assert.match(v[v.indexOf("-M") + 1]!, /,acpi=off$/);
  assert.ok(v.includes("virtio-mmio.force-legacy=false"));
  assert.deepEqual(v.slice(v.indexOf("-netdev"), v.indexOf("-netdev") + 4), ["-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80", "-device", "virtio-net-device,netdev=net0"]);
  assert.equal(v[v.indexOf("-append") + 1], "boot.stats=1 net.ip=10.0.2.15/24 net.gw=10.0.2.2 -- hello");
  assert.deepEqual(v.slice(v.indexOf("-serial"), v.indexOf("-serial") + 2), ["-serial", "stdio"], "the console stays on the UART");
  const without = qemuArgs("img", { memory: 4 << 20, cmdline: "", accel: "tcg", devices: [], net: nw! });
  assert.ok(!without.includes("-netdev"), "no device note, no network");
  // -p/--net for an image without the device: refused by openGuestNetwork (guest-network.test.ts).
});
