// kvm.ts and the worker's real setup, run against a simulated /dev/kvm (testing/fake-kvm-sys.ts):
// the ioctl sequence, the structs passed, error paths and resource release.
import { test } from "node:test";
import { strict as assert } from "node:assert";
import { CAP, EXIT, IOCTL, MEMORY_REGION, RUN, SIZE } from "./abi.ts";
import { decodeRegs, decodeSregs } from "./boot-state.ts";
import { decodeCpuid } from "./cpuid.ts";
import { VcpuControl, KICK_SIGNAL } from "./control.ts";
import { createMachine } from "./kvm.ts";
import { IDENTITY_MAP_ADDR, START_INFO_ADDR, TSS_ADDR } from "./layout.ts";
import { outputChunks, type WorkerMessage } from "./messages.ts";
import { ResourceLedger } from "./resources.ts";
import { ByteRing } from "./ring.ts";
import { runVcpuWorker } from "./worker-main.ts";
import { FAKE_FDS, FakeKvmSys, out } from "./testing/fake-kvm-sys.ts";
import { buildElf, goodElfSpec } from "./testing/elf-builder.ts";
import { KvmError } from "./errors.ts";

const MiB = 1024 * 1024;

test("createMachine: ioctl order and arguments", () => {
  const sys = new FakeKvmSys();
  const ledger = new ResourceLedger(sys);
  const m = createMachine(sys, ledger, 4 * MiB);
  const names = sys.calls.map((c) => c.name);
  const at = (n: string): number => names.indexOf(n);
  assert.equal(names[0], "GET_API_VERSION");
  for (const n of ["SET_TSS_ADDR", "SET_IDENTITY_MAP_ADDR", "CREATE_IRQCHIP", "CREATE_PIT2", "SET_USER_MEMORY_REGION"]) {
    assert.ok(at(n) > at("CREATE_VM") && at(n) < at("CREATE_VCPU"), `${n} between CREATE_VM and CREATE_VCPU`);
  }
  assert.ok(at("CREATE_IRQCHIP") < at("CREATE_PIT2"));
  assert.ok(at("SET_CPUID2") > at("CREATE_VCPU"));
  const call = (n: string) => sys.calls.find((c) => c.name === n)!;
  assert.equal(call("SET_TSS_ADDR").arg, TSS_ADDR);
  assert.equal(call("SET_TSS_ADDR").fd, FAKE_FDS.vm);
  assert.equal(new DataView((call("SET_IDENTITY_MAP_ADDR").arg as Uint8Array).buffer).getBigUint64(0, true), BigInt(IDENTITY_MAP_ADDR));
  const region = new DataView((call("SET_USER_MEMORY_REGION").arg as Uint8Array).buffer);
  assert.equal(region.getUint32(MEMORY_REGION.slot, true), 0);
  assert.equal(region.getBigUint64(MEMORY_REGION.guestPhysAddr, true), 0n);
  assert.equal(region.getBigUint64(MEMORY_REGION.memorySize, true), BigInt(4 * MiB));
  assert.notEqual(region.getBigUint64(MEMORY_REGION.userspaceAddr, true), 0n);
  assert.equal((call("CREATE_PIT2").arg as Uint8Array).length, SIZE.pitConfig);
  // CPUID: grown past E2BIG (64 -> 128 entries), tuned, given to the vCPU.
  assert.equal(sys.calls.filter((c) => c.name === "GET_SUPPORTED_CPUID").length, 2);
  const cpuid = decodeCpuid(call("SET_CPUID2").arg as Uint8Array);
  assert.equal(call("SET_CPUID2").fd, FAKE_FDS.vcpu);
  assert.equal(cpuid.length, 81, "80 from KVM + the timing leaf");
  assert.equal(cpuid.find((e) => e.function === 0x40000010)!.eax, 2_000_000);
  assert.ok(cpuid.find((e) => e.function === 1)!.ecx & (1 << 24));
  // /dev/kvm is closed once the VM exists; the rest stays held until release.
  assert.deepEqual(sys.closed, [FAKE_FDS.kvm]);
  const held = ledger.summary().outstanding.map((r) => r.label);
  assert.deepEqual(held, ["vm", "guest RAM", "vcpu 0", "vcpu 0 kvm_run"]);
  assert.equal(m.memory.length, 4 * MiB);
  m.irqLine(4, true);
  const irq = new DataView((sys.calls.at(-1)!.arg as Uint8Array).buffer);
  assert.deepEqual([sys.calls.at(-1)!.name, irq.getUint32(0, true), irq.getUint32(4, true)], ["IRQ_LINE", 4, 1]);
  ledger.release();
  assert.deepEqual(sys.closed, [FAKE_FDS.kvm, FAKE_FDS.vcpu, FAKE_FDS.vm]);
  assert.equal(sys.unmapped.length, 2);
});

test("createMachine refusals name the KVM call", () => {
  const old = new FakeKvmSys();
  old.apiVersion = 11;
  assert.throws(() => createMachine(old, new ResourceLedger(old), 2 * MiB), /KVM_GET_API_VERSION failed: API version 11, expected 12/);
  const noIrq = new FakeKvmSys();
  noIrq.missingCaps.add(CAP.IRQCHIP);
  assert.throws(() => createMachine(noIrq, new ResourceLedger(noIrq), 2 * MiB), /lacks an in-kernel irqchip \(KVM_CAP_IRQCHIP\)/);
  const busy = new FakeKvmSys();
  busy.failOn = { req: IOCTL.CREATE_VCPU, errno: 16 };
  const ledger = new ResourceLedger(busy);
  assert.throws(() => createMachine(busy, ledger, 2 * MiB), (e: unknown) => e instanceof KvmError && e.call === "KVM_CREATE_VCPU" && /Device or resource busy \(errno 16\)/.test(e.message));
  ledger.release();
  assert.deepEqual(ledger.summary().outstanding, []);
  assert.deepEqual(busy.closed.sort(), [FAKE_FDS.kvm, FAKE_FDS.vm].sort(), "kvm and vm fds closed after the failure");
  const noPit = new FakeKvmSys();
  noPit.missingCaps.add(CAP.PIT2);
  noPit.missingCaps.add(CAP.GET_TSC_KHZ);
  createMachine(noPit, new ResourceLedger(noPit), 2 * MiB);
  assert.ok(!noPit.calls.some((c) => c.name === "CREATE_PIT2" || c.name === "GET_TSC_KHZ"));
});

test("the worker's real path on simulated KVM: PVH registers, signal mask, console, exit, release", () => {
  const sys = new FakeKvmSys([
    (run) => (run.setUint32(RUN.exitReason, EXIT.IRQ_WINDOW_OPEN, true), 0),
    out(0x3f8, [...new TextEncoder().encode("ok\n")]),
    out(0x501, [42]),
  ]);
  const msgs: WorkerMessage[] = [];
  const init = { image: buildElf(goodElfSpec()), file: "img.elf", memory: 2 * MiB, cmdline: "x", control: VcpuControl.create().sab, input: ByteRing.create().sab };
  runVcpuWorker(init, (m) => msgs.push(m), sys, createMachine);
  const exit = msgs.at(-1)!;
  assert.ok(exit.type === "exit");
  assert.deepEqual([exit.exit.reason, exit.exit.status, exit.phase], ["exit", 42, "run"]);
  assert.deepEqual(outputChunks(msgs).map((b) => new TextDecoder().decode(b)), ["ok\n"]);
  assert.deepEqual(exit.resources.outstanding, []);
  assert.equal(exit.resources.opened, 5);
  assert.equal(exit.resources.released, 5);
  const regs = decodeRegs(sys.calls.find((c) => c.name === "SET_REGS")!.arg as Uint8Array);
  assert.equal(regs.rip, 0x100010n);
  assert.equal(regs.rbx, BigInt(START_INFO_ADDR));
  const sregs = decodeSregs(sys.calls.find((c) => c.name === "SET_SREGS")!.arg as Uint8Array);
  assert.equal(sregs.cr0, 0x11n);
  assert.equal(sregs.cs.db, 1);
  const mask = sys.calls.find((c) => c.name === "SET_SIGNAL_MASK")!.arg as Uint8Array;
  assert.equal(new DataView(mask.buffer).getUint32(0, true), 8, "kernel sigset length");
  assert.equal(mask.length, 12);
  assert.equal(mask[4 + ((KICK_SIGNAL - 1) >> 3)]! & (1 << ((KICK_SIGNAL - 1) & 7)), 0, "kick signal open inside KVM_RUN");
  assert.ok(sys.blockedSignals![(KICK_SIGNAL - 1) >> 3]! & (1 << ((KICK_SIGNAL - 1) & 7)), "kick signal blocked in the thread");
  assert.ok(sys.calls.findIndex((c) => c.name === "SET_REGS") < sys.calls.findIndex((c) => c.name === "RUN"));
});

test("the worker reports a setup failure with the call, releasing what it made", () => {
  const sys = new FakeKvmSys();
  sys.failOn = { req: IOCTL.SET_USER_MEMORY_REGION, errno: 22 };
  const msgs: WorkerMessage[] = [];
  const init = { image: buildElf(goodElfSpec()), file: "img.elf", memory: 2 * MiB, cmdline: "", control: VcpuControl.create().sab, input: ByteRing.create().sab };
  runVcpuWorker(init, (m) => msgs.push(m), sys, createMachine);
  const exit = msgs.at(-1)!;
  assert.ok(exit.type === "exit");
  assert.equal(exit.phase, "setup");
  assert.equal(exit.exit.detail, "KVM: KVM_SET_USER_MEMORY_REGION failed: Invalid argument (errno 22)");
  assert.deepEqual(exit.resources.outstanding, []);
  assert.equal(exit.resources.opened, 3, "kvm, vm, guest RAM");
  assert.equal(sys.unmapped.length, 1);
});
