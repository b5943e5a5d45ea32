// The least guest memory an image boots in: bisection over 4 KiB pages between the smallest
// memory Kiln allows and a size that boots (boots are assumed monotonic in memory: an image that
// runs in N bytes runs in more).
import { MIN_MEMORY } from "../config/memory.ts";
import { runImage, type RunnerName } from "../run/index.ts";

const PAGE = 4096;

/**
 * The smallest multiple of 4 KiB in [lo, hi] for which `boots` holds, or undefined when `hi`
 * does not boot. Asks `boots` about log2((hi - lo) / 4 KiB) + 1 sizes at most.
 */
export async function bisectMemory(lo: number, hi: number, boots: (memory: number) => Promise<boolean>): Promise<number | undefined> {
  lo = Math.ceil(lo / PAGE) * PAGE;
  hi = Math.floor(hi / PAGE) * PAGE;
  if (hi < lo || !(await boots(hi))) return undefined;
  if (await boots(lo)) return lo;
  // Invariant: lo does not boot, hi does.
  while (hi - lo > PAGE) {
    const mid = lo + Math.floor((hi - lo) / PAGE / 2) * PAGE;
    if (await boots(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The least memory `image` exits 0 in on `runner`, searched below `upTo` (the app's memory). */
export function minBootMemory(image: string, opts: { cmdline: string; runner: RunnerName; upTo: number; initrd?: string }): Promise<number | undefined> {
  return bisectMemory(MIN_MEMORY, opts.upTo, async (memory) => {
    const r = await runImage(image, { memory, cmdline: opts.cmdline, runner: opts.runner, timeoutMs: 30_000, ...(opts.initrd ? { initrd: opts.initrd } : {}) });
    return r.status === 0;
  });
}
