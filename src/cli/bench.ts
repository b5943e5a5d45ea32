// `kiln bench <what> ...`: measurements as a readable table, or one JSON object with --json.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { errColors as pc } from "../color.ts";
import { KilnError } from "../errors.ts";
import { parseRunner } from "../run/index.ts";
import { parseMemorySize } from "../config/index.ts";
import { quote } from "../quote.ts";

interface Common {
  json?: boolean;
  out?: string;
}

const collect = (v: string, acc: string[]) => [...acc, v];

function emit(result: object, text: string, flags: Common): void {
  if (flags.out) writeFileSync(flags.out, JSON.stringify(result, null, 2) + "\n");
  process.stdout.write(flags.json ? JSON.stringify(result) + "\n" : text + "\n");
}

const log = (flags: Common) => (line: string) => {
  if (!flags.json) process.stderr.write(pc.dim(line) + "\n");
};

/** --json and --out: every bench command has them. */
const withOutput = (cmd: Command): Command =>
  cmd.option("--json", "print one JSON object").option("--out <file>", "also write the JSON to a file");

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new KilnError(`${flag}: ${quote(value)} is not a positive whole number.`);
  return n;
}

export function register(program: Command): void {
  const bench = program.command("bench").description("Measure images: size, boot, allocators, scheduler, console, network");

  withOutput(
    bench
      .command("size")
      .description("Image size, stripped and unstripped, and by library")
      .argument("<app-dir>")
      .option("--set <lib.option=value>", "override a library option (repeatable)", collect, [])
      .option("--lto", "build with link-time optimization")
  ).action(async (appDir: string, flags: Common & { set: string[]; lto?: boolean }) => {
    const { benchSize, formatSize } = await import("../bench/size.ts");
    const r = await benchSize(appDir, { sets: flags.set, lto: flags.lto });
    emit(r, formatSize(r), flags);
  });

  withOutput(
    bench
      .command("boot")
      .description("Guest boot time to main and whole-process time, over several runs")
      .argument("<app-dir>")
      .option("--runs <n>", "how many boots", "10")
      .option("--runner <name>", "vmm | qemu | auto", "auto")
      .option("--memory <size>", "guest memory (default: the app's)")
      .option("--in-process <n>", "also boot n times inside this process on Kiln's VMM (needs KVM)")
      .option("--set <lib.option=value>", "override a library option (repeatable)", collect, [])
  ).action(async (appDir: string, flags: Common & { runs: string; runner: string; memory?: string; inProcess?: string; set: string[] }) => {
    const { benchBoot, formatBoot } = await import("../bench/boot.ts");
    const r = await benchBoot(appDir, {
      runs: positiveInt(flags.runs, "--runs"),
      runner: parseRunner(flags.runner),
      memory: flags.memory ? parseMemorySize(flags.memory, "--memory") : undefined,
      inProcess: flags.inProcess !== undefined ? positiveInt(flags.inProcess, "--in-process") : undefined,
      sets: flags.set,
      log: log(flags),
    });
    emit(r, formatBoot(r), flags);
  });

  withOutput(
    bench
      .command("net")
      .description("Network: apps/httpreply against native nginx (wrk), TCP echo against Linux loopback, apps/udp-kv")
      .option("--runner <name>", "vmm | qemu | auto", "auto")
      .option("--net <mode>", "tap | user (default: tap where allowed, else user on QEMU)")
      .option("--seconds <n>", "length of each load run", "5")
      .option("--connections <n>", "wrk connections", "100")
      .option("--echo-bytes <n>", "bytes each way through the echo servers", "20000000")
  ).action(async (flags: Common & { runner: string; net?: string; seconds: string; connections: string; echoBytes: string }) => {
    const { benchNet, formatNet } = await import("../bench/net.ts");
    const { parseNetMode } = await import("../run/net-options.ts");
    const r = await benchNet({
      runner: parseRunner(flags.runner),
      ...(flags.net ? { net: parseNetMode(flags.net) } : {}),
      seconds: positiveInt(flags.seconds, "--seconds"),
      connections: positiveInt(flags.connections, "--connections"),
      echoBytes: positiveInt(flags.echoBytes, "--echo-bytes"),
      log: log(flags),
    });
    emit(r, formatNet(r), flags);
  });

  withOutput(
    bench
      .command("alloc")
      .description("Allocator throughput (region, buddy, TLSF vs host glibc) and boot time with each")
      .option("--runs <n>", "runs per measurement (medians are reported)", "3")
      .option("--runner <name>", "vmm | qemu | auto", "auto")
  ).action(async (flags: Common & { runs: string; runner: string }) => {
    const { benchAlloc, formatAllocTable } = await import("../bench/alloc.ts");
    const r = await benchAlloc({ runs: positiveInt(flags.runs, "--runs"), runner: parseRunner(flags.runner), log: log(flags) });
    emit(r, formatAllocTable(r), flags);
  });

  withOutput(
    bench
      .command("console")
      .description("Console output cost per line and byte: virtio-console against the 16550 (apps/virtio-console)")
      .option("--runs <n>", "boots per backend (medians are reported)", "3")
      .option("--lines <n>", "lines per boot", "2000")
      .option("--bytes <n>", "bytes per line, newline included", "64")
      .option("--runner <name>", "vmm | qemu | auto", "auto")
  ).action(async (flags: Common & { runs: string; lines: string; bytes: string; runner: string }) => {
    const { benchConsole, formatConsoleTable } = await import("../bench/console.ts");
    const r = await benchConsole({
      runs: positiveInt(flags.runs, "--runs"),
      lines: positiveInt(flags.lines, "--lines"),
      lineBytes: positiveInt(flags.bytes, "--bytes"),
      runner: parseRunner(flags.runner),
      log: log(flags),
    });
    emit(r, formatConsoleTable(r), flags);
  });

  withOutput(
    bench
      .command("sched")
      .description("Context switch, thread create+join and timer wake-up costs (medians)")
      .option("--runs <n>", "boots of the benchmark image", "5")
      .option("--runner <name>", "vmm | qemu | auto", "auto")
      .option("--no-host", "skip the scheduler compiled natively on the host (reference line)")
      .option("--set <lib.option=value>", "override a library option (repeatable)", collect, [])
  ).action(async (flags: Common & { runs: string; runner: string; host: boolean; set: string[] }) => {
    const { benchSched, formatSchedTable } = await import("../bench/sched.ts");
    const r = await benchSched({
      runs: positiveInt(flags.runs, "--runs"),
      runner: parseRunner(flags.runner),
      host: flags.host,
      sets: flags.set,
      log: log(flags),
    });
    emit(r, formatSchedTable(r), flags);
  });

  withOutput(
    bench
      .command("syscall")
      .description("Cycles per getppid(): syscall instruction, rewritten site, musl, plain call; Linux on the host")
      .option("--iters <n>", "calls per round", "100000")
      .option("--runner <name>", "vmm | qemu | auto", "auto")
  ).action(async (flags: Common & { iters: string; runner: string }) => {
    const { benchSyscall, formatSyscallTable } = await import("../bench/syscall.ts");
    const r = await benchSyscall({ iters: positiveInt(flags.iters, "--iters"), runner: parseRunner(flags.runner), log: log(flags) });
    emit(r, formatSyscallTable(r), flags);
  });

  withOutput(
    bench
      .command("sqlite")
      .description("60,000 SQLite INSERTs: apps/sqlite on Kiln against the same SQLite built natively on musl")
      .option("--inserts <n>", "rows inserted", "60000")
      .option("--runner <name>", "vmm | qemu | auto", "auto")
  ).action(async (flags: Common & { inserts: string; runner: string }) => {
    const { benchSqlite, formatSqliteTable } = await import("../bench/sqlite.ts");
    const r = await benchSqlite({ inserts: positiveInt(flags.inserts, "--inserts"), runner: parseRunner(flags.runner), log: log(flags) });
    emit(r, formatSqliteTable(r), flags);
  });
}

