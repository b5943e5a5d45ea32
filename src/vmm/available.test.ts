import { test } from "node:test";
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { IOCTL } from "./abi.ts";
import { kvmAvailable, type KvmProbe } from "./available.ts";

function probe(open: number | string, ioctl: (req: number, arg: number) => number): KvmProbe & { closed: number[] } {
  const closed: number[] = [];
  return { closed, open: () => open, close: (fd) => void closed.push(fd), ioctl: (_fd, req, arg) => ioctl(req, arg) };
}

test("one-line reasons for each way KVM can be unusable", () => {
  assert.deepEqual(kvmAvailable(probe("ENOENT", () => 0)), { ok: false, reason: "no /dev/kvm (KVM is not enabled on this machine or not passed to this container)" });
  assert.match((kvmAvailable(probe("EACCES", () => 0)) as { reason: string }).reason, /^no permission to open \/dev\/kvm \(add your user to the kvm group/);
  assert.match((kvmAvailable(probe("ENXIO", () => 0)) as { reason: string }).reason, /no KVM module is loaded/);
  assert.match((kvmAvailable(probe("EBUSY", () => 0)) as { reason: string }).reason, /cannot open \/dev\/kvm \(EBUSY\)/);
  const old = probe(7, (req) => (req === IOCTL.GET_API_VERSION ? 11 : 1));
  assert.deepEqual(kvmAvailable(old), { ok: false, reason: "/dev/kvm reports KVM API version 11; Kiln's VMM needs 12" });
  assert.deepEqual(old.closed, [7], "fd closed");
  const noIrqchip = probe(7, (req, arg) => (req === IOCTL.GET_API_VERSION ? 12 : arg === 0 ? 0 : 1));
  assert.deepEqual(kvmAvailable(noIrqchip), { ok: false, reason: "this kernel's KVM lacks an in-kernel irqchip" });
  const noKoffi = probe(7, () => {
    throw new Error("Cannot find the native Koffi module\nmore");
  });
  assert.deepEqual(kvmAvailable(noKoffi), { ok: false, reason: "cannot call into /dev/kvm: koffi failed to load (Cannot find the native Koffi module)" });
  assert.deepEqual(noKoffi.closed, [7]);
  assert.deepEqual(kvmAvailable(probe(7, (req) => (req === IOCTL.GET_API_VERSION ? 12 : 1))), { ok: true });
  for (const r of [old, noIrqchip]) assert.ok(!(kvmAvailable(r) as { reason: string }).reason.includes("\n"));
});

test("the real check on this machine agrees with /dev/kvm", () => {
  const r = kvmAvailable();
  if (!existsSync("/dev/kvm")) assert.deepEqual(r, { ok: false, reason: "no /dev/kvm (KVM is not enabled on this machine or not passed to this container)" });
  else assert.ok(r.ok || /kvm/i.test(r.reason));
});
