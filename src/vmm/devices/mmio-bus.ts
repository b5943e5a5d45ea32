// The guest's MMIO space outside RAM (KVM_EXIT_MMIO): devices claim windows; an access nowhere
// reads all ones and writes vanish, as on an empty bus, and is counted. Accesses are 1, 2, 4 or
// 8 bytes (an 8-byte one reaches a device as two 4-byte ones, low half first).

export interface MmioDevice {
  readonly name: string;
  /** A `size`-byte read at `offset` into the window. */
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

interface Window {
  base: number;
  length: number;
  dev: MmioDevice;
}

export class MmioBus {
  private readonly windows: Window[] = [];
  /** Accesses that hit no device. */
  unclaimed = 0;

  register(base: number, length: number, dev: MmioDevice): void {
    for (const w of this.windows)
      if (base < w.base + w.length && w.base < base + length)
        throw new Error(`MMIO window of ${dev.name} at 0x${base.toString(16)} overlaps ${w.dev.name}`);
    this.windows.push({ base, length, dev });
  }

  /** Serves one KVM_EXIT_MMIO; `data` is kvm_run's mmio.data, `len` bytes of it used. */
  serve(addr: number, isWrite: boolean, data: Uint8Array): void {
    const len = data.length;
    if (len !== 1 && len !== 2 && len !== 4 && len !== 8) throw new Error(`MMIO access of ${len} bytes`);
    const w = this.windows.find((x) => addr >= x.base && addr + len <= x.base + x.length);
    const v = new DataView(data.buffer, data.byteOffset, len);
    if (!w) {
      this.unclaimed++;
      if (!isWrite) data.fill(0xff);
      return;
    }
    const off = addr - w.base;
    const parts = len === 8 ? [0, 4] : [0];
    const size = len === 8 ? 4 : len;
    for (const p of parts) {
      if (isWrite) {
        const val = size === 1 ? v.getUint8(p) : size === 2 ? v.getUint16(p, true) : v.getUint32(p, true);
        w.dev.write(off + p, size, val);
      } else {
        const val = w.dev.read(off + p, size) >>> 0;
        if (size === 1) v.setUint8(p, val & 0xff);
        else if (size === 2) v.setUint16(p, val & 0xffff, true);
        else v.setUint32(p, val, true);
      }
    }
  }
}
