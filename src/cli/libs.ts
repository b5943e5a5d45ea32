// `kiln libs`: every library under kernel/ with what it provides, requires and its options.
import type { Command } from "commander";
import { loadLibraries } from "../config/index.ts";
import { formatLibraries, librariesJson } from "../config/report.ts";

export function register(program: Command): void {
  program
    .command("libs")
    .description("List every kernel library: description, provided APIs, requirements, options")
    .option("--json", "print the manifests as JSON")
    .addHelpText(
      "after",
      "\nSelect a library in an app's kiln.yaml under libraries; set options there or with\n" +
        "--set lib.option=value. See docs/writing-a-library.md to add one.\n" +
        "\nExamples:\n  kiln libs\n  kiln libs --json",
    )
    .action(async (flags: { json?: boolean }) => {
      const libs = await loadLibraries();
      process.stdout.write(flags.json ? `${JSON.stringify(librariesJson(libs), null, 2)}\n` : formatLibraries(libs));
    });
}
