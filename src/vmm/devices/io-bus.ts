// The guest's I/O port space: devices claim port ranges; accesses to unclaimed ports are
// ignored (reads see 0xff.., as on an empty ISA bus) but counted per port, so a report can say
// what the guest poked at.

export interface PortDevice {
  readonly name: string;
  readonly base: number;
  readonly length: number;
  /** A `size`-byte read at `offset` from base; the value is masked to size by the bus. */
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

export interface UnknownPortCount {
  reads: number;
  writes: number;
}

const mask = (size: number): number => (size >= 4 ? 0xffffffff : (1 << (size * 8)) - 1);

export class IoBus {
  private readonly devices: PortDevice[] = [];
  readonly unknown = new Map<number, UnknownPortCount>();

  register(dev: PortDevice): void {
    for (const d of this.devices)
      if (dev.base < d.base + d.length && d.base < dev.base + dev.length)
        throw new Error(`I/O ports of ${dev.name} (0x${dev.base.toString(16)}) overlap ${d.name}`);
    this.devices.push(dev);
  }

  private find(port: number): PortDevice | undefined {
    return this.devices.find((d) => port >= d.base && port < d.base + d.length);
  }

  private count(port: number, write: boolean): void {
    const c = this.unknown.get(port) ?? { reads: 0, writes: 0 };
    if (write) c.writes++;
    else c.reads++;
    this.unknown.set(port, c);
  }

  in(port: number, size: number): number {
    const dev = this.find(port);
    if (!dev) {
      this.count(port, false);
      return mask(size) >>> 0;
    }
    return (dev.read(port - dev.base, size) & mask(size)) >>> 0;
  }

  out(port: number, size: number, value: number): void {
    const dev = this.find(port);
    if (!dev) return this.count(port, true);
    dev.write(port - dev.base, size, (value & mask(size)) >>> 0);
  }

  /** Total accesses to unclaimed ports. */
  unknownTotal(): number {
    let n = 0;
    for (const c of this.unknown.values()) n += c.reads + c.writes;
    return n;
  }

  /**
   * Serves one KVM_EXIT_IO: `count` accesses of `size` bytes (more than one for rep ins/outs),
   * values little-endian in `data` (the kvm_run page's data area). Sizes other than 1, 2, 4
   * cannot come from real hardware and are refused rather than trusted.
   */
  serveExit(isOut: boolean, port: number, size: number, count: number, data: Uint8Array): void {
    if (size !== 1 && size !== 2 && size !== 4) throw new Error(`I/O exit with size ${size}`);
    if (count * size > data.length) throw new Error(`I/O exit of ${count}x${size} bytes exceeds its ${data.length}-byte data area`);
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < count; i++) {
      const at = i * size;
      if (isOut) {
        const val = size === 1 ? v.getUint8(at) : size === 2 ? v.getUint16(at, true) : v.getUint32(at, true);
        this.out(port, size, val);
      } else {
        const val = this.in(port, size);
        if (size === 1) v.setUint8(at, val);
        else if (size === 2) v.setUint16(at, val, true);
        else v.setUint32(at, val, true);
      }
    }
  }
}
