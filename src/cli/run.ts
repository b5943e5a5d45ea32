// `kiln run <app-dir|image> [-- args]`: build if needed, boot, stream the console, exit with the
// guest's status.
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import picocolors from "picocolors";
import { INITRD } from "../build/initrd.ts";
import { chooseRunner, parseRunner, runImage } from "../run/index.ts";
import { composeCmdline } from "../run/cmdline.ts";
import { parseNetMode, parsePublishList, type NetOptions } from "../run/net-options.ts";
// Not config/index.ts: the config layer (its schema, YAML) and the build load only for an app
// directory, so `kiln run <image>` never loads them.
import { parseMemorySize } from "../config/memory.ts";
import { KilnError } from "../errors.ts";
import { quote, visible } from "../quote.ts";
import { NotServed, type CliIo } from "./io.ts";

interface RunFlags {
  runner: string;
  memory?: string;
  set: string[];
  param: string[];
  test?: boolean;
  lto?: boolean;
  debug?: boolean;
  timeout?: string;
  verbose?: boolean;
  quiet?: boolean;
  publish: string[];
  net?: string;
}

const collect = (v: string, acc: string[]) => [...acc, v];
const DEFAULT_IMAGE_MEMORY = 8 * 1024 * 1024;

export function register(program: Command, io: CliIo): void {
  program
    .command("run")
    .description("Build an app if needed and boot it; the exit status is the guest's")
    .argument("<target>", "an app directory (with kiln.yaml) or an image file")
    .argument("[args...]", "app arguments, after --")
    .option("--runner <name>", "vmm | qemu | auto (vmm where /dev/kvm works)", "auto")
    .option("--memory <size>", "guest memory, e.g. 2M (default: the app's memory, or 8M for an image)")
    .option("--set <lib.option=value>", "override a library option (repeatable)", collect, [])
    .option("--param <lib.key=value>", "add a kernel command-line parameter (repeatable)", collect, [])
    .option("--test", "build and run the image for testing (runs the guest tests)")
    .option("--lto", "build with link-time optimization")
    .option("--debug", "build with -O0 -g")
    .option("--timeout <seconds>", "kill the guest after this long")
    .option("-p, --publish <[addr:]host:guest[/udp]>", "publish a guest port on the host (repeatable; host address default 127.0.0.1)", collect, [])
    .option("--net <mode>", "the guest's network: tap (a TAP per VM) | user (QEMU's user-mode network); default tap where allowed, else user on QEMU")
    .option("-v, --verbose", "show protocol lines from the guest")
    .option("-q, --quiet", "no build progress, no runner notice")
    .addHelpText("after", "\nExamples:\n  kiln run apps/helloworld -- one two\n  kiln run apps/helloworld --runner qemu --memory 2M\n  kiln run apps/httpreply --runner qemu -p 8080:80")
    .action(async (target: string, args: string[], flags: RunFlags) => {
      io.status = await runCommand(target, args, flags, program.args.includes("--"), io);
    });
}

async function runCommand(target: string, args: string[], flags: RunFlags, dashDash: boolean, io: CliIo): Promise<number> {
  const pc = picocolors.createColors(io.errColor);
  const runner = parseRunner(flags.runner);
  // The helper (`kiln serve`) runs on the VMM with nothing but the console and input to relay;
  // anything else the client runs the plain way (decided before any output).
  if (io.served && (runner === "qemu" || flags.net !== undefined || flags.publish.length)) throw new NotServed();
  const timeoutMs = flags.timeout !== undefined ? Number(flags.timeout) * 1000 : undefined;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new KilnError(`--timeout: ${quote(flags.timeout ?? "")} is not a positive number of seconds.`);
  const memoryFlag = flags.memory !== undefined ? parseMemorySize(flags.memory, "--memory") : undefined;
  const appArgs = dashDash || args.length ? args : undefined;
  const publish = parsePublishList(flags.publish);
  const net: NetOptions | undefined = flags.net !== undefined || publish.length ? { ...(flags.net !== undefined ? { mode: parseNetMode(flags.net) } : {}), publish } : undefined;

  let image: string;
  let debugImage: string | undefined;
  let memory: number;
  let initrd: string | undefined;
  let base = "";
  let isDir = false;
  // Under the helper the client's working directory is not this process's.
  const at = io.cwd === process.cwd() ? target : path.resolve(io.cwd, target);
  try {
    isDir = statSync(at).isDirectory();
  } catch {
    throw new KilnError(`${visible(target, 200)}: no such app directory or image.`);
  }
  // An app's build resolves paths against the working directory (its build/, relative -I flags,
  // the paths in messages): the helper builds only where that is its own.
  if (io.served && isDir && io.cwd !== process.cwd()) throw new NotServed();
  // Under the helper there is no notice to order (a notice means QEMU, the plain CLI's): the runner
  // is known before the slow part, so the client knows at once whether to run it the plain way.
  if (io.served && (await chooseRunner(runner, () => {})) !== "vmm") throw new NotServed();
  io.accepted?.();
  if (!isDir) {
    const buildFlags = [flags.set.length && "--set", flags.test && "--test", flags.lto && "--lto", flags.debug && "--debug"].filter(Boolean);
    if (buildFlags.length) throw new KilnError(`${buildFlags.join(", ")}: these build an app; ${target} is an image. Pass the app directory instead.`);
  }
  // Every argument, kiln.yaml and --set is checked before the runner is chosen, so its notice
  // (no KVM, falling back to QEMU) never comes before an error about them; -q silences it.
  const { resolveApp } = isDir ? await import("../config/index.ts") : { resolveApp: undefined };
  const cfg = resolveApp ? await resolveApp(target, { sets: flags.set, test: flags.test, lto: flags.lto, debug: flags.debug }) : undefined;
  if (!isDir) {
    const { inspectImage } = await import("../vmm/loader.ts");
    inspectImage(readFileSync(at), target, memoryFlag ?? DEFAULT_IMAGE_MEMORY);
  }
  const notice = flags.quiet ? () => {} : (line: string) => io.err(pc.yellow(line) + "\n");
  const chosen = await chooseRunner(runner, notice);
  if (chosen === "vmm") {
    // Load the vCPU thread while the app builds: it is most of a cold start.
    const { Vm } = await import("../vmm/index.ts");
    void Vm.prewarm(1);
  }
  if (cfg) {
    const { build } = await import("../build/index.ts");
    const log = flags.quiet ? () => {} : (line: string) => io.err(pc.dim(line) + "\n");
    const built = await build(cfg, { log });
    image = built.image;
    debugImage = built.debugImage;
    initrd = built.initrd;
    memory = memoryFlag ?? cfg.app.memory;
    base = cfg.app.cmdline;
  } else {
    image = at;
    const dbg = path.join(path.dirname(at), "image.dbg.elf");
    debugImage = dbg;
    // An image from a build directory boots with the rootfs built beside it.
    const cpio = path.join(path.dirname(at), INITRD);
    if (existsSync(cpio)) initrd = cpio;
    memory = memoryFlag ?? DEFAULT_IMAGE_MEMORY;
  }
  // SIGTERM (a supervisor, a test, `kill`) stops the guest too: QEMU would outlive us otherwise.
  if (chosen === "vmm") io.prepare?.(memory);
  // Under the helper, the client's going away (or its SIGTERM) is the stop.
  const stop = new AbortController();
  const onTerm = () => stop.abort();
  if (io.stop) io.stop.addEventListener("abort", onTerm, { once: true });
  else process.once("SIGTERM", onTerm);
  const result = await runImage(image, {
    stop: stop.signal,
    memory,
    cmdline: composeCmdline(base, flags.param, appArgs),
    runner: chosen,
    debugImage,
    ...(initrd ? { initrd } : {}),
    timeoutMs,
    ...(net ? { net } : {}),
    verbose: flags.verbose,
    interactive: io.stdinTTY,
    ...(io.stdin ? { input: io.stdin } : {}),
    onOutput: io.out,
    notice,
  }).finally(() => (io.stop ? io.stop.removeEventListener("abort", onTerm) : process.off("SIGTERM", onTerm)));
  return result.status;
}
