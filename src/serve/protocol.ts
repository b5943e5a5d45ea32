// The helper's wire format (src/serve/client.c speaks it too): frames of a type byte, a 32-bit
// little-endian length and the payload.
//   client -> helper  R  the request: NUL-terminated fields (parseRequest)
//                     I  the client's terminal input, once accepted (then half-close: stop)
//   helper -> client  A  accepted (the client stops its answer timeout)
//                     O / E  stdout / stderr bytes
//                     X  the exit status, in decimal
//                     P  run it the plain way (before any output)
//                     S  stale: the helper runs older code than the checkout; it exits
export const VERSION = "kiln-serve 1";
export const MAX_REQUEST = 1 << 20;

export interface Request {
  /** The newest source's date in the client's checkout, microseconds. */
  newestUs: number;
  cwd: string;
  stdinTTY: boolean;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  /** The variables that change a run (KILN_*, NO_COLOR, FORCE_COLOR, TERM, PATH). */
  env: Record<string, string>;
  /** kiln's arguments, the command first. */
  argv: string[];
}

export function frame(type: string, payload: string | Uint8Array = ""): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeUInt32LE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits frames off the front of `buf`: those complete, and what is left. */
export function takeFrames(buf: Buffer, max: number): { frames: Array<{ type: string; body: Buffer }>; rest: Buffer } {
  const frames: Array<{ type: string; body: Buffer }> = [];
  let at = 0;
  while (buf.length - at >= 5) {
    const len = buf.readUInt32LE(at + 1);
    if (len > max) throw new Error(`a frame of ${len} bytes (at most ${max})`);
    if (buf.length - at - 5 < len) break;
    frames.push({ type: String.fromCharCode(buf[at]!), body: buf.subarray(at + 5, at + 5 + len) });
    at += 5 + len;
  }
  return { frames, rest: buf.subarray(at) };
}

/** The request's fields, checked; throws with what is wrong. */
export function parseRequest(body: Buffer): Request {
  if (body.length === 0 || body[body.length - 1] !== 0) throw new Error("the fields are not NUL-terminated");
  const f = body.subarray(0, body.length - 1).toString("utf8").split("\0");
  if (f[0] !== VERSION) throw new Error(`version ${JSON.stringify(f[0]?.slice(0, 40))}, expected ${JSON.stringify(VERSION)}`);
  if (f.length < 5) throw new Error("too few fields");
  const newestUs = Number(f[1]);
  if (!/^\d+$/.test(f[1]!) || !Number.isSafeInteger(newestUs)) throw new Error("the source date is not a number");
  const cwd = f[2]!;
  if (!cwd.startsWith("/")) throw new Error("the working directory is not absolute");
  const tty = f[3]!;
  if (!/^[01]{3}$/.test(tty)) throw new Error("the terminal flags are not three 0/1 digits");
  const nenv = Number(f[4]);
  if (!/^\d+$/.test(f[4]!) || 5 + nenv > f.length) throw new Error("the environment count is wrong");
  const env: Record<string, string> = {};
  for (const kv of f.slice(5, 5 + nenv)) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new Error("an environment entry has no name");
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const argv = f.slice(5 + nenv);
  if (!argv.length) throw new Error("no command");
  return { newestUs, cwd, stdinTTY: tty[0] === "1", stdoutTTY: tty[1] === "1", stderrTTY: tty[2] === "1", env, argv };
}

/** Variables bin/kiln.js and the helper set for themselves: not the user's. */
const OWN = new Set(["KILN_ROOT", "KILN_VCPU_WORKER_BUNDLE", "KILN_BUNDLE"]);

/** The part of an environment that changes a run, as the client sends it. */
export function runEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || OWN.has(k)) continue;
    if (k.startsWith("KILN_") || k === "NO_COLOR" || k === "FORCE_COLOR" || k === "TERM" || k === "PATH") out[k] = v;
  }
  return out;
}

export function sameEnv(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
