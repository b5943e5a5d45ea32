// `kiln serve`: the resident helper the fast `kiln run` (bin/kiln) starts on demand; see
// src/serve/server.ts and docs/fast-run.md. Not meant to be run by hand, but it may be.
import { statSync } from "node:fs";
import type { Command } from "commander";
import { KilnError } from "../errors.ts";
import { repoRoot } from "../paths.ts";
import { quote } from "../quote.ts";
import type { CliIo } from "./io.ts";

const started = Date.now();

export function register(program: Command, io: CliIo): void {
  program
    .command("serve")
    .description("the resident helper behind the fast `kiln run` (started on demand by bin/kiln)")
    .option("--idle <seconds>", "exit after this long without a run", process.env.KILN_SERVE_IDLE ?? "30")
    .option("-v, --verbose", "log to stderr")
    .action(async (flags: { idle: string; verbose?: boolean }) => {
      const idleMs = Number(flags.idle) * 1000;
      if (!(idleMs > 0)) throw new KilnError(`--idle: ${quote(flags.idle)} is not a positive number of seconds.`);
      const { socketPath } = await import("../serve/socket-path.ts");
      const { serve } = await import("../serve/server.ts");
      // The code this process runs dates from its bundle (bin/kiln.js names it), else from now
      // (tsx compiles the sources as they are at start).
      const bundle = process.env.KILN_BUNDLE;
      const builtMs = bundle ? statSync(bundle).mtimeMs : started;
      await serve({ socket: socketPath(repoRoot), idleMs, builtMs, ...(flags.verbose ? { log: (l: string) => io.err(l + "\n") } : {}) });
      io.status = 0;
    });
}
