// Guest RAM as seen by the VMM: a byte view with every access bounds-checked, because guest
// addresses come from the image or the guest and must never reach outside the mapping.
import { KilnError } from "../errors.ts";

export class GuestMemoryError extends KilnError {
  constructor(what: string, addr: number, len: number, size: number) {
    super(`guest memory: ${what} at 0x${addr.toString(16)} (+${len}) is outside the ${size}-byte guest RAM`);
    this.name = "GuestMemoryError";
  }
}

export class GuestMemory {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  get size(): number {
    return this.bytes.length;
  }
  /** Throws unless [addr, addr+len) lies inside guest RAM. */
  check(what: string, addr: number, len: number): void {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0 || addr > this.size || len > this.size - addr)
      throw new GuestMemoryError(what, addr, len, this.size);
  }
  write(what: string, addr: number, data: Uint8Array): void {
    this.check(what, addr, data.length);
    this.bytes.set(data, addr);
  }
  fill(what: string, addr: number, len: number, value = 0): void {
    this.check(what, addr, len);
    this.bytes.fill(value, addr, addr + len);
  }
  /** A copy, so later guest writes cannot change what the caller inspects. */
  read(what: string, addr: number, len: number): Uint8Array {
    this.check(what, addr, len);
    return this.bytes.slice(addr, addr + len);
  }
  view(what: string, addr: number, len: number): DataView {
    this.check(what, addr, len);
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + addr, len);
  }
}
