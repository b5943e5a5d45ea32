// Paths inside the host gcc installation, asked of gcc once per process.
import { execOrFail } from "./exec.ts";

export interface Toolchain {
  /** gcc's own freestanding headers (stddef.h, stdint.h ...): the only system include dir used. */
  gccInclude: string;
  /** libgcc.a, for the few helpers gcc may call (e.g. 128-bit division). */
  libgcc: string;
}

let cached: Promise<Toolchain> | undefined;

export function toolchain(): Promise<Toolchain> {
  cached ??= (async () => {
    const inc = (await execOrFail("asking gcc for its include dir", "gcc", ["-print-file-name=include"])).stdout.trim();
    const libgcc = (await execOrFail("asking gcc for libgcc", "gcc", ["-print-libgcc-file-name"])).stdout.trim();
    return { gccInclude: inc, libgcc };
  })();
  return cached;
}
