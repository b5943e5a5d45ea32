// Parses the guest's boot stamp line (docs/architecture.md section 6).

export interface BootStamp {
  entryTsc: bigint;
  mainTsc: bigint;
  tscKhz: number;
  /** Microseconds from the first guest instruction to main. */
  guestBootUs: number;
}

export function parseBootLine(output: string): BootStamp | undefined {
  const m = /^kiln: boot entry_tsc=(\d+) main_tsc=(\d+) tsc_khz=(\d+)\s*$/m.exec(output);
  if (!m) return undefined;
  const entryTsc = BigInt(m[1]!);
  const mainTsc = BigInt(m[2]!);
  const tscKhz = Number(m[3]!);
  if (tscKhz <= 0 || mainTsc < entryTsc) return undefined;
  const guestBootUs = (Number(mainTsc - entryTsc) * 1000) / tscKhz;
  return { entryTsc, mainTsc, tscKhz, guestBootUs };
}
