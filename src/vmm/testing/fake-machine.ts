// Test support: a machine factory for the vCPU worker that needs no /dev/kvm. Guest RAM is a
// real anonymous mapping and the "vCPU fd" a real fd (/dev/null), both in the worker's ledger,
// so tests see real bookkeeping. The guest is a script chosen by the command line (`fake=...`)
// that checks the start info the loader wrote, then talks to the devices through I/O exits.
// Waiting for an interrupt is modelled as KVM_RUN does with an in-kernel irqchip: block until
// the kick signal arrives, then return EINTR.
import { EXIT, IO_DIRECTION, RUN, SIZE } from "../abi.ts";
import { decodeSregs, type Regs, type Sregs } from "../boot-state.ts";
import { KICK_SIGNAL } from "../control.ts";
import { EXIT_PORT } from "../devices/exit-port.ts";
import { COM1 } from "../devices/uart16550.ts";
import type { KvmMachine, MachineVcpu } from "../kvm.ts";
import { ResourceLedger } from "../resources.ts";
import type { Shell } from "../shell.ts";
import { START_INFO } from "../start-info.ts";
import { EINTR, MAP_ANONYMOUS, MAP_PRIVATE, O_CLOEXEC, PROT_READ, PROT_WRITE, sigset, type Sys } from "../sys.ts";

type Op =
  | { out: number; value: number }
  | { in: number }
  | { mmioWrite: number; value: number }
  | { mmioRead: number }
  | { wait: true }
  | { deaf: true }
  | { exit: number };

const DATA_AT = 4096;

function* script(mode: string, mem: DataView, regs: () => Regs): Generator<Op, void, number> {
  const si = Number(regs().rbx);
  const magic = mem.getUint32(si + START_INFO.magic, true);
  const cmdAt = Number(mem.getBigUint64(si + START_INFO.cmdlinePaddr, true));
  let cmd = "";
  for (let p = cmdAt; mem.getUint8(p) !== 0; p++) cmd += String.fromCharCode(mem.getUint8(p));
  const say = function* (s: string): Generator<Op, void, number> {
    for (const b of new TextEncoder().encode(s)) yield { out: COM1, value: b };
  };
  yield* say(`magic=${magic.toString(16)} cmdline=${cmd}\n`);
  if (mode === "hello") {
    yield* say("kiln: exit 7\n");
    yield { exit: 7 };
  } else if (mode === "spin") {
    for (;;) yield { wait: true };
  } else if (mode === "echo") {
    for (;;) {
      if ((yield { in: COM1 + 5 }) & 1) {
        const c = yield { in: COM1 };
        if (c === 0x71) {
          yield { exit: 0 }; // q
          return;
        }
        yield { out: COM1, value: c };
      } else {
        yield { wait: true };
      }
    }
  } else if (mode === "prompt") {
    yield* say("> ");
    for (;;) yield { wait: true };
  } else if (mode === "deaf") {
    for (;;) yield { deaf: true };
  } else if (mode === "triple") {
    yield { exit: -1 };
  } else if (mode === "virtio") {
    yield* virtioGuest(cmd, mem, say);
  }
}

/**
 * A guest driver for the virtio-console at the first virtio_mmio.device= of the command line,
 * as Kiln's does it (kernel/drivers/virtio): probe, negotiate, set up both queues, send
 * `count` lines on the transmit queue (one chain each, then one notification), then read one
 * line of host input from the receive queue and echo it on the transmit queue.
 */
function* virtioGuest(cmd: string, mem: DataView, say: (s: string) => Generator<Op, void, number>): Generator<Op, void, number> {
  const m = /virtio_mmio\.device=512@0x([0-9a-f]+):(\d+)/.exec(cmd);
  if (!m) {
    yield* say("no virtio device announced\n");
    yield { exit: 0 };
    return;
  }
  const base = parseInt(m[1]!, 16);
  const rd = function* (off: number): Generator<Op, number, number> {
    return yield { mmioRead: base + off };
  };
  const wr = (off: number, value: number): Op => ({ mmioWrite: base + off, value });
  const magic = yield* rd(0);
  const id = yield* rd(8);
  yield* say(`virtio magic=${magic.toString(16)} version=${yield* rd(4)} id=${id}\n`);
  yield wr(0x70, 0);
  yield wr(0x70, 3);
  yield wr(0x24, 1);
  yield wr(0x20, 1); // VERSION_1
  yield wr(0x70, 11);
  const queues = [0x80000, 0x90000];
  for (let q = 0; q < 2; q++) {
    yield wr(0x30, q);
    yield wr(0x38, 8);
    yield wr(0x80, queues[q]!);
    yield wr(0x90, queues[q]! + 0x100);
    yield wr(0xa0, queues[q]! + 0x200);
    yield wr(0x44, 1);
  }
  yield wr(0x70, 15);
  yield* say(`status=${yield* rd(0x70)}\n`); // the last UART line: the console moves to virtio
  const enc = new TextEncoder();
  const tx = queues[1]!;
  let txIdx = 0;
  const send = (text: string, slot: number): void => {
    const data = 0xa0000 + slot * 0x100;
    enc.encode(text).forEach((b, i) => mem.setUint8(data + i, b));
    mem.setBigUint64(tx + 16 * slot, BigInt(data), true);
    mem.setUint32(tx + 16 * slot + 8, text.length, true);
    mem.setUint16(tx + 16 * slot + 12, 0, true);
    mem.setUint16(tx + 0x100 + 4 + 2 * (txIdx % 8), slot, true);
    txIdx++;
  };
  const count = Number(/lines=(\d+)/.exec(cmd)?.[1] ?? 3);
  for (let i = 0; i < count; i++) send(`virtio line ${i}\n`, i % 8);
  mem.setUint16(tx + 0x100 + 2, txIdx, true);
  yield wr(0x50, 1);
  // Receive: one buffer, then wait (polling the used ring) for host input.
  const rx = queues[0]!;
  mem.setBigUint64(rx, 0xb0000n, true);
  mem.setUint32(rx + 8, 64, true);
  mem.setUint16(rx + 12, 2, true); // WRITE
  mem.setUint16(rx + 0x100 + 4, 0, true);
  mem.setUint16(rx + 0x100 + 2, 1, true);
  yield wr(0x50, 0);
  if (/echo/.test(cmd)) {
    // Register reads until host input is in the receive buffer (each exit lets the vCPU
    // thread tell the device thread about waiting input).
    while (mem.getUint16(rx + 0x200 + 2, true) === 0) yield* rd(0x70);
  const len = mem.getUint32(rx + 0x200 + 8, true);
  let got = "";
  for (let i = 0; i < len; i++) got += String.fromCharCode(mem.getUint8(0xb0000 + i));
    send(`echo ${got}`, 0);
    mem.setUint16(tx + 0x100 + 2, txIdx, true);
    yield wr(0x50, 1);
  }
  yield { exit: 0 };
}

class FakeVcpu implements MachineVcpu {
  readonly runBytes = new Uint8Array(8192);
  readonly run = new DataView(this.runBytes.buffer);
  private regs: Regs | undefined;
  private sregsBuf = new Uint8Array(SIZE.sregs);
  private gen: Generator<Op, void, number> | undefined;
  private lastIn = false;
  private lastMmioRead = false;
  private readonly sys: Sys;
  private readonly mem: DataView;
  constructor(sys: Sys, mem: Uint8Array) {
    this.sys = sys;
    this.mem = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  }
  getRegs(): Regs {
    if (!this.regs) throw new Error("no regs set");
    return this.regs;
  }
  setRegs(r: Regs): void {
    this.regs = r;
  }
  getSregs(): Sregs {
    return decodeSregs(this.sregsBuf);
  }
  setSregs(): void {}
  setSignalMask(): void {}
  /** As new: the next enter() starts the script chosen by the next guest's command line. */
  reset(): void {
    this.gen = undefined;
    this.regs = undefined;
    this.lastIn = false;
  }
  enter(): number {
    if (!this.gen) {
      let mode = "";
      const si = Number(this.getRegs().rbx);
      const cmdAt = Number(this.mem.getBigUint64(si + START_INFO.cmdlinePaddr, true));
      for (let p = cmdAt; this.mem.getUint8(p) !== 0; p++) mode += String.fromCharCode(this.mem.getUint8(p));
      this.gen = script(/fake=(\w+)/.exec(mode)?.[1] ?? "hello", this.mem, () => this.getRegs());
    }
    const r = this.gen.next(this.lastMmioRead ? this.run.getUint32(RUN.mmioData, true) : this.lastIn ? this.runBytes[DATA_AT]! : 0);
    this.lastMmioRead = false;
    this.lastIn = false;
    if (r.done) throw new Error("fake guest script ended without exiting");
    const op = r.value;
    const run = this.run;
    if ("wait" in op) {
      for (;;) if (this.sys.sigtimedwait(sigset(KICK_SIGNAL), 100) === KICK_SIGNAL) return EINTR;
    }
    if ("deaf" in op) {
      for (;;) this.sys.sigtimedwait(sigset(KICK_SIGNAL), 100); // swallows kicks: a stuck vCPU
    }
    if ("exit" in op && op.exit < 0) {
      run.setUint32(RUN.exitReason, EXIT.SHUTDOWN, true);
      return 0;
    }
    if ("mmioWrite" in op || "mmioRead" in op) {
      run.setUint32(RUN.exitReason, EXIT.MMIO, true);
      run.setBigUint64(RUN.mmioPhysAddr, BigInt("mmioWrite" in op ? op.mmioWrite : op.mmioRead), true);
      run.setUint32(RUN.mmioLen, 4, true);
      run.setUint8(RUN.mmioIsWrite, "mmioWrite" in op ? 1 : 0);
      if ("mmioWrite" in op) run.setUint32(RUN.mmioData, op.value, true);
      this.lastMmioRead = "mmioRead" in op;
      return 0;
    }
    run.setUint32(RUN.exitReason, EXIT.IO, true);
    run.setUint8(RUN.ioSize, 1);
    run.setUint32(RUN.ioCount, 1, true);
    run.setBigUint64(RUN.ioDataOffset, BigInt(DATA_AT), true);
    if ("in" in op) {
      run.setUint8(RUN.ioDirection, IO_DIRECTION.IN);
      run.setUint16(RUN.ioPort, op.in, true);
      this.lastIn = true;
    } else {
      run.setUint8(RUN.ioDirection, IO_DIRECTION.OUT);
      run.setUint16(RUN.ioPort, "exit" in op ? EXIT_PORT : op.out, true);
      this.runBytes[DATA_AT] = "exit" in op ? op.exit : op.value;
    }
    return 0;
  }
}

export function createMachine(sys: Sys, ledger: ResourceLedger, memory: number): KvmMachine {
  const fd = sys.open("/dev/null", O_CLOEXEC);
  if (fd < 0) throw new Error("open /dev/null failed");
  ledger.fd("fake vcpu", fd);
  const addr = sys.mmap(memory, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ledger.mapping("guest RAM", addr, memory);
  const mem = new Uint8Array(sys.view(addr, memory));
  const irqs: string[] = [];
  return { memory: mem, ramAddress: addr, vcpu: new FakeVcpu(sys, mem), irqLine: (irq, level) => void irqs.push(`${irq}:${level}`) };
}

/** A memory size for which making a shell fails (as KVM refusing a call would). */
export const REFUSED_SHELL_MEMORY = 6 * 1024 * 1024;

/** A fake shell for the pool tests: its machine is the fake one; reset zeroes RAM and the vCPU. */
export function createShell(sys: Sys, memory: number): Shell {
  if (memory === REFUSED_SHELL_MEMORY) throw new Error("fake KVM refuses shells of this size");
  const ledger = new ResourceLedger(sys);
  const machine = createMachine(sys, ledger, memory);
  return {
    memory,
    machine,
    reset: () => {
      machine.memory.fill(0);
      (machine.vcpu as FakeVcpu).reset();
    },
    destroy: () => {
      ledger.release();
      return ledger.summary();
    },
  };
}
