// One build at a time per build directory: `kiln run` and tests may build the same app at once.
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KilnError } from "../errors.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `<dir>/.kiln-lock`, waiting for another live build; returns the release function. */
export async function lockBuildDir(dir: string, timeoutMs = 10 * 60_000): Promise<() => void> {
  const file = path.join(dir, ".kiln-lock");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = Number.NaN;
    let age = 0;
    try {
      holder = Number.parseInt(fs.readFileSync(file, "utf8"), 10);
      age = Date.now() - fs.statSync(file).mtimeMs;
    } catch {
      continue; // released meanwhile: try again
    }
    // A lock whose process is gone is stale; an empty one is being written unless it is old.
    const stale = Number.isFinite(holder) ? holder !== process.pid && !alive(holder) : age > 5000;
    if (stale) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new KilnError(`${dir} is locked by process ${holder} for over ${timeoutMs / 1000} s. Wait for that build or remove ${file}.`);
    await sleep(100);
  }
}
