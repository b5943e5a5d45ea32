// Kiln's one-exit console (port 0x504, the VMM's own; QEMU has nothing there). A 32-bit read
// gives HOSTCON_MAGIC, which is how the guest knows it may use it. A 32-bit write is the
// guest-physical address of an 8-byte request { u32 addr; u32 len } (little-endian): the VMM
// prints those bytes during that one exit, where the 16550 takes an exit per byte (~31 us each
// on kvm-pvm). Everything comes from guest memory, so every address is bounds-checked; a bad
// request prints nothing and is counted.
import type { GuestMemory } from "../guest-memory.ts";
import type { PortDevice } from "./io-bus.ts";

export const HOSTCON_PORT = 0x504;
export const HOSTCON_MAGIC = 0x6e6c694b; // "Kiln", little-endian
/** The largest request the guest driver makes (kernel/plat/kvm/serial.c splits longer writes). */
export const HOSTCON_MAX_LEN = 0x10000;

export class HostConsole implements PortDevice {
  readonly name = "kiln-console";
  readonly base = HOSTCON_PORT;
  readonly length = 4;
  /** Requests refused (a misaligned or narrow access, an address outside RAM, an overlong length). */
  refused = 0;
  private readonly memory: GuestMemory;
  private readonly output: (bytes: Uint8Array) => void;

  constructor(memory: GuestMemory, output: (bytes: Uint8Array) => void) {
    this.memory = memory;
    this.output = output;
  }

  read(offset: number, size: number): number {
    return offset === 0 && size === 4 ? HOSTCON_MAGIC : 0;
  }

  write(offset: number, size: number, value: number): void {
    if (offset !== 0 || size !== 4 || value % 4 !== 0) return void this.refused++;
    const mem = this.memory;
    if (value > mem.size - 8) return void this.refused++;
    const req = mem.view("console request", value, 8);
    const addr = req.getUint32(0, true);
    const len = req.getUint32(4, true);
    if (len > HOSTCON_MAX_LEN || addr > mem.size || len > mem.size - addr) return void this.refused++;
    if (len) this.output(mem.bytes.subarray(addr, addr + len));
  }
}
