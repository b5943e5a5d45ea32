// wrk (Debian's package) as the HTTP load generator of `kiln bench net`: runs it and reads its
// report.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { KilnError } from "../errors.ts";

const run = promisify(execFile);

export interface WrkResult {
  requests: number;
  seconds: number;
  req_per_s: number;
  /** Latency in microseconds: mean and the percentiles wrk --latency prints. */
  latency_us: { mean: number; p50: number; p75: number; p90: number; p99: number };
  /** Socket errors (connect, read, write, timeout) and non-2xx/3xx responses. */
  errors: number;
}

const unitUs: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000, m: 60_000_000 };

function durationUs(text: string, what: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new KilnError(`wrk: cannot read the ${what} ${JSON.stringify(text)}`);
  return Number(m[1]) * unitUs[m[2]!]!;
}

/** Reads wrk's text report (run with --latency). */
export function parseWrk(out: string): WrkResult {
  const reqs = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),/m.exec(out);
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const lat = /^\s*Latency\s+(\S+)/m.exec(out);
  if (!reqs || !rate || !lat) throw new KilnError(`wrk printed no report:\n${out.slice(-1500)}`);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, "m").exec(out);
    if (!m) throw new KilnError(`wrk: no ${p}% latency in its report (run it with --latency)`);
    return Number(durationUs(m[1]!, `${p}% latency`).toFixed(1));
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return {
    requests: Number(reqs[1]),
    seconds: durationUs(reqs[2]! + reqs[3]!, "duration") / 1e6,
    req_per_s: Number(rate[1]),
    latency_us: { mean: Number(durationUs(lat[1]!, "mean latency").toFixed(1)), p50: pct("50"), p75: pct("75"), p90: pct("90"), p99: pct("99") },
    errors,
  };
}

export async function runWrk(url: string, opts: { threads: number; connections: number; seconds: number }): Promise<WrkResult> {
  try {
    const { stdout } = await run("wrk", [`-t${opts.threads}`, `-c${opts.connections}`, `-d${opts.seconds}s`, "--latency", url], { timeout: (opts.seconds + 30) * 1000 });
    return parseWrk(stdout);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new KilnError("wrk not found. Install it: apt-get install wrk (or run 'make bench-deps').");
    throw e;
  }
}
