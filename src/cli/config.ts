// `kiln config <app-dir>`: what would be built: every library (and why) and every option value.
import type { Command } from "commander";
import { resolveApp, emitLock } from "../config/index.ts";
import { formatConfig } from "../config/report.ts";

interface ConfigFlags {
  set: string[];
  test?: boolean;
  lto?: boolean;
  debug?: boolean;
  json?: boolean;
}

const collect = (v: string, acc: string[]) => [...acc, v];

export function register(program: Command): void {
  program
    .command("config")
    .description("Resolve an app's configuration: selected libraries, why, and every option's value and origin")
    .argument("<app-dir>", "an app directory (with kiln.yaml)")
    .option("--set <lib.option=value>", "override a library option (repeatable)", collect, [])
    .option("--test", "resolve the test image (adds the test library, CONFIG_KILN_TEST)")
    .option("--lto", "as built with --lto (recorded in the lock)")
    .option("--debug", "as built with --debug (recorded in the lock)")
    .option("--json", "print the lock object (what the build writes to kiln.lock.json)")
    .addHelpText(
      "after",
      "\nOrigins: default (library.yaml), kiln.yaml (the app's libraries section), --set.\n" +
        "\nExamples:\n  kiln config apps/helloworld\n  kiln config apps/helloworld --set print.float=false --json",
    )
    .action(async (appDir: string, flags: ConfigFlags) => {
      const cfg = await resolveApp(appDir, {
        sets: flags.set,
        test: flags.test ?? false,
        lto: flags.lto ?? false,
        debug: flags.debug ?? false,
      });
      process.stdout.write(flags.json ? `${JSON.stringify(emitLock(cfg), null, 2)}\n` : formatConfig(cfg));
    });
}
