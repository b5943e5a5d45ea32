// `kiln build <app-dir>`: resolve kiln.yaml, build the image incrementally, report where the
// bytes went.
import type { Command } from "commander";
import { outColors as pc } from "../color.ts";
import { buildApp } from "../build/index.ts";
import { formatReport } from "../build/report.ts";
import { quote } from "../quote.ts";

interface BuildFlags {
  set: string[];
  lto?: boolean;
  debug?: boolean;
  test?: boolean;
  quiet?: boolean;
  jobs?: string;
  out?: string;
}

const collect = (v: string, acc: string[]) => [...acc, v];

export function register(program: Command): void {
  program
    .command("build")
    .description("Build an app's unikernel image (incremental)")
    .argument("<app-dir>", "a directory with kiln.yaml")
    .option("--set <lib.option=value>", "override a library option (repeatable)", collect, [])
    .option("--lto", "link-time optimization, per library (build/<app>-lto)")
    .option("--debug", "-O0 -g (build/<app>-debug)")
    .option("--test", "build the image for testing: the guest runs its tests (build/<app>-test)")
    .option("-j, --jobs <n>", "parallel compile jobs (default: the number of CPUs)")
    .option("-o, --out <dir>", "build directory (default: build/<app>[-test][-lto][-debug])")
    .option("-q, --quiet", "no progress lines")
    .addHelpText("after", "\nExamples:\n  kiln build apps/helloworld\n  kiln build apps/helloworld --set print.float=false --lto")
    .action(async (appDir: string, flags: BuildFlags, cmd: Command) => {
      let jobs: number | undefined;
      if (flags.jobs !== undefined) {
        jobs = /^\s*\d+\s*$/.test(flags.jobs) ? Number(flags.jobs) : NaN;
        // cmd.error, not program.error: the hint that follows is build's own --help.
        if (!(jobs > 0)) cmd.error(`error: --jobs: ${quote(flags.jobs)} is not a positive whole number. Use e.g. -j 4.`);
      }
      // `kiln build ... | head` closes the pipe early: that is not an error worth a stack trace.
      process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EPIPE") process.exit(0);
        throw e;
      });
      const log = flags.quiet
        ? () => {}
        : (line: string) => {
            if (line === "up to date") process.stdout.write(pc.green(line) + "\n");
            else if (line.startsWith("warning:") || line.startsWith("ld:")) process.stdout.write(pc.yellow(line) + "\n");
            else process.stdout.write(pc.dim(line) + "\n");
          };
      const r = await buildApp(appDir, { sets: flags.set, lto: flags.lto, debug: flags.debug, test: flags.test, jobs, outDir: flags.out, log });
      for (const line of formatReport(r)) process.stdout.write(line + "\n");
    });
}
