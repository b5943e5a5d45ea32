// Paths inside the host gcc installation, asked of gcc once per process.
import { execOrFail } from "./exec.ts";

export interface Toolchain {
  /** gcc's own freestanding headers (stddef.h, stdint.h ...): the only system include dir used. */
  gccInclude: string;
  /** libgcc.a, for the few helpers gcc may call (e.g. 128-bit division). */
  libgcc: string;
  /** gcc and ld versions: part of every object, prelink and link key. */
  id: string;
}

let cached: Promise<Toolchain> | undefined;

export function toolchain(): Promise<Toolchain> {
  cached ??= (async () => {
    const inc = (await execOrFail("asking gcc for its include dir", "gcc", ["-print-file-name=include"])).stdout.trim();
    const libgcc = (await execOrFail("asking gcc for libgcc", "gcc", ["-print-libgcc-file-name"])).stdout.trim();
    const gcc = (await execOrFail("asking gcc for its version", "gcc", ["--version"])).stdout.split("\n")[0]!.trim();
    const ld = (await execOrFail("asking ld for its version", "ld", ["--version"])).stdout.split("\n")[0]!.trim();
    return { gccInclude: inc, libgcc, id: `${gcc}; ${ld}` };
  })();
  return cached;
}
