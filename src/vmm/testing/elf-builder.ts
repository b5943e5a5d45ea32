// Test support: builds small ELF64 x86_64 files, valid or deliberately broken, in memory.

export interface SegSpec {
  type?: number; // default PT_LOAD
  flags?: number; // default R+X
  paddr: number;
  data: Uint8Array;
  memsz?: number; // default data.length
  align?: number;
}

export interface ElfSpec {
  segments: SegSpec[];
  entry?: number;
  type?: number;
  machine?: number;
  cls?: number;
  data?: number;
  phentsize?: number;
  phnum?: number; // override the count written in the header
}

/** One ELF note, 4-byte aligned as gcc/ld emit them. */
export function note(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name + "\0");
  const pad = (n: number): number => (n + 3) & ~3;
  const out = new Uint8Array(12 + pad(nameBytes.length) + pad(desc.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, nameBytes.length, true);
  v.setUint32(4, desc.length, true);
  v.setUint32(8, type, true);
  out.set(nameBytes, 12);
  out.set(desc, 12 + pad(nameBytes.length));
  return out;
}

export function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export function u64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

export function pvhNote(entry: number): Uint8Array {
  return note("Xen", 18, u32le(entry));
}

export function buildElf(spec: ElfSpec): Uint8Array {
  const phnum = spec.segments.length;
  const phoff = 64;
  let dataOff = phoff + phnum * 56;
  const offsets = spec.segments.map((s) => {
    dataOff = (dataOff + 15) & ~15;
    const at = dataOff;
    dataOff += s.data.length;
    return at;
  });
  const out = new Uint8Array(dataOff);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, spec.cls ?? 2, spec.data ?? 1, 1], 0);
  v.setUint16(16, spec.type ?? 2, true);
  v.setUint16(18, spec.machine ?? 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(spec.entry ?? 0x100000), true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, spec.phentsize ?? 56, true);
  v.setUint16(56, spec.phnum ?? phnum, true);
  spec.segments.forEach((s, i) => {
    const ph = phoff + i * 56;
    v.setUint32(ph, s.type ?? 1, true);
    v.setUint32(ph + 4, s.flags ?? 5, true);
    v.setBigUint64(ph + 8, BigInt(offsets[i]!), true);
    v.setBigUint64(ph + 16, BigInt(s.paddr), true);
    v.setBigUint64(ph + 24, BigInt(s.paddr), true);
    v.setBigUint64(ph + 32, BigInt(s.data.length), true);
    v.setBigUint64(ph + 40, BigInt(s.memsz ?? s.data.length), true);
    v.setBigUint64(ph + 48, BigInt(s.align ?? 4), true);
    out.set(s.data, offsets[i]!);
  });
  return out;
}

/** A minimal bootable-looking image: code at 1 MiB, a .bss, and a PVH note. */
export function goodElfSpec(): ElfSpec {
  const code = new Uint8Array(64).fill(0x90);
  return {
    entry: 0x100000,
    segments: [
      { paddr: 0x100000, data: code, flags: 5 },
      { paddr: 0x101000, data: new Uint8Array([1, 2, 3, 4]), memsz: 0x2000, flags: 6 },
      { type: 4, flags: 4, paddr: 0, data: pvhNote(0x100010) },
    ],
  };
}
