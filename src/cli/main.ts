// The kiln command line: one module per command, each exporting `register(program)`.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import picocolors from "picocolors";
import { KilnError } from "../errors.ts";
import { repoRoot } from "../paths.ts";
import { visible } from "../quote.ts";
import { processIo, type CliIo } from "./io.ts";

type Registrar = (program: Command, io: CliIo) => void;

const commands: Record<string, () => Promise<{ register: Registrar }>> = {
  build: () => import("./build.ts"),
  run: () => import("./run.ts"),
  config: () => import("./config.ts"),
  libs: () => import("./libs.ts"),
  bench: () => import("./bench.ts"),
  syscalls: () => import("./syscalls.ts"),
  serve: () => import("./serve.ts"),
};

/**
 * The command modules to load: only the one named when the first argument is a command (each
 * pulls in its own dependencies: `kiln run <image>` needs neither the config schema nor the
 * build), all of them for help, options or an unknown command.
 */
function needed(argv: string[]): Array<() => Promise<{ register: Registrar }>> {
  const first = argv[2];
  if (first !== undefined && Object.hasOwn(commands, first) && !argv.includes("--help") && !argv.includes("-h")) return [commands[first]!];
  return Object.values(commands);
}

/** The toolchain's version: package.json's. */
function kilnVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
  const v = (pkg as { version?: unknown }).version;
  return typeof v === "string" ? v : "unknown";
}

/**
 * After a usage error each command points at its own --help (`kiln build --help`), instead of
 * printing a whole help text, the top-level one for errors an action reports.
 */
function hintHelp(cmd: Command, name: string): void {
  cmd.showHelpAfterError(`(see '${name} --help')`);
  for (const sub of cmd.commands) hintHelp(sub, `${name} ${sub.name()}`);
}

/** Runs the CLI and returns the process exit status. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const pc = picocolors.createColors(io.errColor);
  // `kiln cc` passes every argument to gcc untouched, so it bypasses the option parser.
  if (argv[2] === "cc") {
    try {
      return await (await import("./cc.ts")).runCc(argv.slice(3));
    } catch (err) {
      if (err instanceof KilnError) {
        io.err(`${pc.red("error:")} ${err.message}\n`);
        return err.exitStatus;
      }
      throw err;
    }
  }
  const program = new Command("kiln")
    .description("Build, run and measure Kiln unikernels")
    .version(kilnVersion(), "-V, --version", "print kiln's version")
    // commander's own errors repeat what was typed (`unknown command '...'`): escaped and cut too.
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      outputError: (text, write) => write(text.replace(/[^\n]+/g, (line) => visible(line, 200))),
    })
    .exitOverride();
  for (const load of needed(argv)) (await load()).register(program, io);
  program.command("cc").description("compile C against musl like kiln build does for libc: musl apps (use as CC=); kiln cc --help").allowUnknownOption();
  hintHelp(program, "kiln");
  try {
    await program.parseAsync(argv);
    return io.status ?? (typeof process.exitCode === "number" ? process.exitCode : 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof KilnError) {
      io.err(`${pc.red("error:")} ${err.message}\n`);
      return err.exitStatus;
    }
    throw err;
  }
}
