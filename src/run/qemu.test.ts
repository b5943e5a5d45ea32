import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseAccel, qemuArgs, qemuMemoryArg } from "./qemu.ts";

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
