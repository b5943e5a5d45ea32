// Shared by the integration tests: build an app (incrementally: images are built once per run and
// reused) and boot it on QEMU (KVM where usable, else TCG).
import path from "node:path";
import { resolveApp } from "../../src/config/index.ts";
import { build, type BuildResult } from "../../src/build/index.ts";
import { runImage, type RunResult, testRunner } from "../../src/run/index.ts";
import { composeCmdline } from "../../src/run/cmdline.ts";
import { repoRoot } from "../../src/paths.ts";
import type { DeviceName } from "../../src/vmm/elf.ts";

export const appDir = (name: string): string => path.join(repoRoot, "apps", name);

export interface BootOptions {
  test?: boolean;
  sets?: string[];
  args?: string[];
  params?: string[];
  memory?: number;
  timeoutMs?: number;
  /** Devices to attach (default: those the image's notes ask for). */
  devices?: DeviceName[];
}

export async function buildFor(name: string, opts: BootOptions = {}): Promise<{ built: BuildResult; memory: number; cmdline: string }> {
  const cfg = await resolveApp(appDir(name), { sets: opts.sets ?? [], test: opts.test ?? false });
  const built = await build(cfg, { log: () => {} });
  return { built, memory: cfg.app.memory, cmdline: cfg.app.cmdline };
}

export async function boot(name: string, opts: BootOptions = {}): Promise<RunResult & { built: BuildResult }> {
  const { built, memory, cmdline } = await buildFor(name, opts);
  const r = await runImage(built.image, {
    runner: testRunner(),
    memory: opts.memory ?? memory,
    cmdline: composeCmdline(cmdline, opts.params ?? [], opts.args),
    debugImage: built.debugImage,
    ...(built.initrd ? { initrd: built.initrd } : {}),
    timeoutMs: opts.timeoutMs ?? 60_000,
    ...(opts.devices ? { devices: opts.devices } : {}),
  });
  return { ...r, built };
}

/** Parses the guest test protocol (docs/architecture.md section 6). */
export function parseKtest(output: string): { begin?: number; passed: string[]; failed: string[]; summary?: { passed: number; failed: number } } {
  const passed: string[] = [];
  const failed: string[] = [];
  let begin: number | undefined;
  let summary: { passed: number; failed: number } | undefined;
  for (const line of output.split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /^KTEST: begin (\d+)$/.exec(line))) begin = Number(m[1]);
    else if ((m = /^KTEST: pass (\S+)$/.exec(line))) passed.push(m[1]!);
    else if ((m = /^KTEST: fail (\S+) (.*)$/.exec(line))) failed.push(`${m[1]} ${m[2]}`);
    else if ((m = /^KTEST: summary passed=(\d+) failed=(\d+)$/.exec(line))) summary = { passed: Number(m[1]), failed: Number(m[2]) };
  }
  return { begin, passed, failed, summary };
}
