// `kiln build <app-dir>`: resolve kiln.yaml, build the image incrementally, report where the
// bytes went.
import type { Command } from "commander";
import { outColors as pc } from "../color.ts";
import { buildApp } from "../build/index.ts";
import { formatReport } from "../build/report.ts";

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
    .action(async (appDir: string, flags: BuildFlags) => {
      const jobs = flags.jobs !== undefined ? Number.parseInt(flags.jobs, 10) : undefined;
      if (jobs !== undefined && !(jobs > 0)) {
        program.error(`--jobs: "${flags.jobs}" is not a positive number.`);
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
