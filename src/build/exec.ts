// Runs the host toolchain (gcc, ld, objcopy, nm) without a shell and captures its output.
import { spawn } from "node:child_process";
import { KilnError } from "../errors.ts";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args...`; resolves with the exit code and output (never rejects on a non-zero exit). */
export function exec(cmd: string, args: readonly string[], cwd?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") {
        reject(new KilnError(`${cmd}: not found. Install it (Debian: apt-get install gcc binutils) and make sure it is on PATH.`));
      } else reject(e);
    });
    child.on("close", (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

/** Like exec, but a non-zero exit becomes a KilnError naming `what` and showing the tool's output. */
export async function execOrFail(what: string, cmd: string, args: readonly string[], cwd?: string): Promise<ExecResult> {
  const r = await exec(cmd, args, cwd);
  if (r.code !== 0) {
    const output = (r.stderr + r.stdout).trim();
    throw new KilnError(`${what} failed (${cmd} exited with ${r.code}):\n${output || "(no output)"}\n  command: ${cmd} ${args.join(" ")}`);
  }
  return r;
}
