import { test } from "node:test";
import { strict as assert } from "node:assert";
import { EXIT, RUN } from "./abi.ts";
import { IoBus } from "./devices/io-bus.ts";
import { ExitPort, EXIT_PORT } from "./devices/exit-port.ts";
import { COM1, Uart16550 } from "./devices/uart16550.ts";
import { runLoop, type LoopControl, type LoopStats } from "./run-loop.ts";
import { EINTR, EAGAIN } from "./sys.ts";
import { FakeVcpu, errno, exitWith, ioIn, ioOut, type Step } from "./testing/fake-vcpu.ts";

function machine(steps: Step[], ctl: Partial<LoopControl> = {}) {
  const out: number[] = [];
  const bus = new IoBus();
  const uart = new Uart16550({ output: (b) => out.push(b) });
  const exitPort = new ExitPort(() => {});
  bus.register(uart);
  bus.register(exitPort);
  const vcpu = new FakeVcpu(steps);
  const stats: LoopStats = { exits: 0, ioExits: 0, mmioExits: 0, kicks: 0 };
  const calls = { service: 0, consumed: 0 };
  const control: LoopControl = {
    stopRequested: ctl.stopRequested ?? (() => false),
    consumeKick: () => calls.consumed++,
    service: () => calls.service++,
  };
  const exit = runLoop(vcpu, bus, exitPort, control, stats);
  return { exit, out, stats, calls, bus, uart, vcpu };
}

const text = (s: string): number[] => [...new TextEncoder().encode(s)];

test("console output then the exit port status ends the VM", () => {
  const steps = [...text("kiln: exit 3\n").map((b) => ioOut(COM1, [b])), ioOut(0x80, [0]), ioOut(EXIT_PORT, [3])];
  const m = machine(steps);
  assert.deepEqual(m.exit, { status: 3, reason: "exit", detail: "guest wrote 3 to the exit port" });
  assert.equal(new TextDecoder().decode(new Uint8Array(m.out)), "kiln: exit 3\n");
  assert.equal(m.stats.ioExits, 15);
  assert.deepEqual(m.bus.unknown.get(0x80), { reads: 0, writes: 1 });
});

test("rep outs and IN exits go through the kvm_run data area", () => {
  const lsr: number[] = [];
  const m = machine([ioOut(COM1, text("abc")), ioIn(COM1 + 5, lsr), ioOut(EXIT_PORT, [0])]);
  assert.equal(m.exit.reason, "exit");
  assert.deepEqual(m.out, text("abc"));
  assert.deepEqual(lsr, [0x60]);
});

test("a kick (EINTR) with a stop request ends as killed; without, the loop services and goes on", () => {
  let stop = false;
  const m1 = machine([errno(EINTR), errno(EAGAIN), ioOut(EXIT_PORT, [0])], { stopRequested: () => stop });
  assert.equal(m1.exit.reason, "exit");
  assert.equal(m1.stats.kicks, 1);
  assert.equal(m1.calls.consumed, 1);
  stop = true;
  const m2 = machine([errno(EINTR)], { stopRequested: () => stop });
  assert.deepEqual(m2.exit, { status: 137, reason: "killed", detail: "stopped by the host" });
});

test("faults stop the VM with a named reason, registers and status 255", () => {
  const cases: Array<[Step, string, RegExp]> = [
    [exitWith(EXIT.SHUTDOWN), "triple-fault", /KVM_EXIT_SHUTDOWN: the guest triple-faulted/],
    [
      exitWith(EXIT.INTERNAL_ERROR, (r) => {
        r.setUint32(RUN.internalSuberror, 1, true);
        r.setUint32(RUN.internalNdata, 2, true);
        r.setBigUint64(RUN.internalData, 0x0fn, true);
        r.setBigUint64(RUN.internalData + 8, 0x29n, true);
      }),
      "internal-error",
      /KVM_EXIT_INTERNAL_ERROR: emulation \(an instruction KVM cannot emulate.*\) data 0xf 0x29/,
    ],
    [exitWith(EXIT.FAIL_ENTRY, (r) => r.setBigUint64(RUN.failEntryReason, 0x80000021n, true)), "fail-entry", /reason 0x80000021 on cpu 0/],
    [exitWith(EXIT.HLT), "halted", /halted without writing the exit port/],
    [exitWith(EXIT.SYSTEM_EVENT, (r) => r.setUint32(RUN.systemEventType, 2, true)), "system-event", /type 2/],
    [exitWith(EXIT.DEBUG), "unknown-exit", /KVM_EXIT_DEBUG: not handled/],
    [exitWith(4242), "unknown-exit", /KVM_EXIT_\? \(4242\)/],
    [errno(14), "vmm-error", /KVM_RUN failed with errno 14/],
    [ioOut(COM1, [1, 2, 3], 3), "vmm-error", /port 0x3f8: I\/O exit with size 3/],
    [exitWith(EXIT.MMIO, (r) => r.setUint32(RUN.mmioLen, 64, true)), "vmm-error", /KVM_EXIT_MMIO of 64 bytes/],
    [
      (run, bytes) => {
        const r = ioOut(COM1, [1])(run, bytes);
        run.setBigUint64(RUN.ioDataOffset, 8190n, true);
        run.setUint32(RUN.ioCount, 4, true);
        return r;
      },
      "vmm-error",
      /outside the kvm_run page/,
    ],
  ];
  for (const [step, reason, detail] of cases) {
    const m = machine([step]);
    assert.equal(m.exit.reason, reason);
    assert.equal(m.exit.status, 255);
    assert.match(m.exit.detail, detail);
    assert.match(m.exit.registers!.join("\n"), /rip=0x0000000000100010/);
  }
});

test("a fault report survives KVM refusing the registers", () => {
  const vcpu = new FakeVcpu([exitWith(EXIT.SHUTDOWN)]);
  vcpu.regsFail = true;
  const bus = new IoBus();
  const exit = runLoop(vcpu, bus, new ExitPort(() => {}), { stopRequested: () => false, consumeKick: () => {}, service: () => {} }, { exits: 0, ioExits: 0, mmioExits: 0, kicks: 0 });
  assert.equal(exit.reason, "triple-fault");
  assert.match(exit.registers![0]!, /registers unavailable: KVM_GET_REGS failed/);
});

test("MMIO reads see all ones; the loop continues", () => {
  let mmioSeen = -1;
  const m = machine([
    exitWith(EXIT.MMIO, (r) => {
      r.setUint32(RUN.mmioLen, 4, true);
      r.setUint8(RUN.mmioIsWrite, 0);
    }),
    (run, bytes) => {
      mmioSeen = run.getUint32(RUN.mmioData, true);
      return ioOut(EXIT_PORT, [0])(run, bytes);
    },
  ]);
  assert.equal(m.exit.reason, "exit");
  assert.equal(mmioSeen, 0xffffffff);
  assert.equal(m.stats.mmioExits, 1);
});
