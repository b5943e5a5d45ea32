// `kiln syscalls <elf|app>`: which syscalls a binary can make, and which Kiln implements.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { kernelRoot } from "../paths.ts";

export function register(program: Command): void {
  program
    .command("syscalls")
    .description("The syscall sites of an ELF binary or an app's image, each number marked implemented or -ENOSYS (the porting aid)")
    .argument("<elf-or-app>", "an ELF file, or an app directory / kiln.yaml (built first)")
    .option("--sites", "also list every site (address, path, number, function)")
    .option("--json", "print one JSON object")
    .action(async (target: string, flags: { sites?: boolean; json?: boolean }) => {
      const r = await import("../syscalls/report.ts");
      const isApp = fs.existsSync(target) && (fs.statSync(target).isDirectory() || path.basename(target) === "kiln.yaml");
      let report;
      if (isApp) {
        const { resolveApp } = await import("../config/index.ts");
        const { build } = await import("../build/index.ts");
        const cfg = await resolveApp(target, { sets: [], test: false });
        const built = await build(cfg, { log: () => {} });
        const sources = cfg.libraries.flatMap((l) => l.sources.map((file) => ({ library: l.manifest.name, file })));
        report = await r.reportImage(built.debugImage, built.mapFile, sources);
      } else {
        report = await r.reportElf(target, kernelRoot);
      }
      process.stdout.write((flags.json ? JSON.stringify(report) : r.formatReport(report, flags.sites ?? false)) + "\n");
    });
}
