// The kiln command line: one module per command, each exporting `register(program)`.
import { Command, CommanderError } from "commander";
import { errColors as pc } from "../color.ts";
import { KilnError } from "../errors.ts";

type Registrar = (program: Command) => void;

const commands: Array<() => Promise<{ register: Registrar }>> = [
  () => import("./build.ts"),
  () => import("./run.ts"),
  () => import("./config.ts"),
  () => import("./libs.ts"),
  () => import("./bench.ts"),
  () => import("./syscalls.ts"),
];

/** Runs the CLI and returns the process exit status. */
export async function main(argv: string[]): Promise<number> {
  // `kiln cc` passes every argument to gcc untouched, so it bypasses the option parser.
  if (argv[2] === "cc") {
    try {
      return await (await import("./cc.ts")).runCc(argv.slice(3));
    } catch (err) {
      if (err instanceof KilnError) {
        process.stderr.write(`${pc.red("error:")} ${err.message}\n`);
        return err.exitStatus;
      }
      throw err;
    }
  }
  const program = new Command("kiln")
    .description("Build, run and measure Kiln unikernels")
    .exitOverride()
    .showHelpAfterError();
  for (const load of commands) (await load()).register(program);
  program.command("cc").description("compile C against musl like kiln build does for libc: musl apps (use as CC=); kiln cc --help").allowUnknownOption();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof KilnError) {
      process.stderr.write(`${pc.red("error:")} ${err.message}\n`);
      return err.exitStatus;
    }
    throw err;
  }
}
