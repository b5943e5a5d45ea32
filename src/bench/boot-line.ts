// Parses the guest's boot stamp line (docs/architecture.md section 6).

export interface BootStamp {
  entryTsc: bigint;
  mainTsc: bigint;
  tscKhz: number;
  /** Microseconds from the first guest instruction to main. */
  guestBootUs: number;
  /** Shim calls before main, by command (index = ARCH_SHIM_* of <arch/shim.h>), if reported. */
  cpl0Shims?: number[];
  /** Interrupts taken before main, if reported. */
  cpl0Irqs?: number;
}

export function parseBootLine(output: string): BootStamp | undefined {
  const m = /^kiln: boot entry_tsc=(\d+) main_tsc=(\d+) tsc_khz=(\d+)(?: cpl0_shims=(\d+(?:,\d+)*) cpl0_irqs=(\d+))?\s*$/m.exec(output);
  if (!m) return undefined;
  const entryTsc = BigInt(m[1]!);
  const mainTsc = BigInt(m[2]!);
  const tscKhz = Number(m[3]!);
  if (tscKhz <= 0 || mainTsc < entryTsc) return undefined;
  const guestBootUs = (Number(mainTsc - entryTsc) * 1000) / tscKhz;
  const stamp: BootStamp = { entryTsc, mainTsc, tscKhz, guestBootUs };
  if (m[4] !== undefined) {
    stamp.cpl0Shims = m[4].split(",").map(Number);
    stamp.cpl0Irqs = Number(m[5]);
  }
  return stamp;
}
