// How a guest's exit status reaches the host. The guest prints `kiln: exit <n>` and then writes
// n to port 0x501; QEMU's isa-debug-exit turns that into the process code ((n << 1) | 1) & 0xff,
// which loses n's top bit, so the printed line is authoritative and the code a cross-check.

/** The guest's exit status from its console output, or undefined if it never printed one. */
export function statusFromConsole(output: string): number | undefined {
  const matches = [...output.matchAll(/^kiln: exit (\d+)\r?$/gm)];
  const last = matches.at(-1);
  if (!last) return undefined;
  const n = Number(last[1]);
  return n >= 0 && n <= 255 ? n : undefined;
}

/** The QEMU process exit code that a guest status produces through isa-debug-exit. */
export function qemuCodeFor(status: number): number {
  return ((status << 1) | 1) & 0xff;
}

export type QemuOutcome =
  | { kind: "guest-exit"; status: number }
  | { kind: "qemu-error"; code: number | null; signal: NodeJS.Signals | null };

/**
 * Decides what happened when a QEMU process ended. A guest exit shows as the console line AND
 * an odd code that matches it; anything else (QEMU failing to start, killed, a guest that
 * stopped without the exit port) is a QEMU-level failure.
 */
export function decodeQemuExit(code: number | null, signal: NodeJS.Signals | null, output: string): QemuOutcome {
  const printed = statusFromConsole(output);
  if (code !== null && printed !== undefined && qemuCodeFor(printed) === code) {
    return { kind: "guest-exit", status: printed };
  }
  return { kind: "qemu-error", code, signal };
}
