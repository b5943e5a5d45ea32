// `kiln cc`: a compiler driver for building an app's code with its own build system, like
// musl-gcc: usable as CC= for ./configure and make. Compiling (-c, -S, -E) uses exactly the flags
// kiln build uses for a `libc: musl` app, so the objects and archives it makes can be listed in
// kiln.yaml `objects:`. Linking an executable makes a static host program against the same musl,
// because configure scripts link (and may run) test programs.
import { spawnSync } from "node:child_process";
import { KilnError } from "../errors.ts";
import { checkMuslInstalled, muslCompileFlags } from "../build/musl.ts";
import { toolchain } from "../build/toolchain.ts";

const COMPILE_ONLY = new Set(["-c", "-S", "-E", "-M", "-MM"]);

export const CC_HELP = `usage: kiln cc [gcc arguments]

Compiles C against Debian's musl with the flags kiln build uses for libc: musl apps
(musl's headers only, non-PIC, -ffunction-sections ...). Use it as the compiler of an
app's own build:   ./configure CC="kiln cc" && make     or     make CC="kiln cc"
then name the objects or archives in kiln.yaml (libc: musl, objects: [...]).
Without -c/-S/-E it links a static host executable against musl (for configure's tests).
See docs/porting-an-app.md.
`;

export async function runCc(args: string[]): Promise<number> {
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h") {
    process.stdout.write(CC_HELP);
    return args.length === 0 ? 2 : 0;
  }
  checkMuslInstalled();
  const compileOnly = args.some((a) => COMPILE_ONLY.has(a));
  const info = args.includes("-v") || args.includes("--version") || args.some((a) => a.startsWith("-print-") || a.startsWith("-dump"));
  let cmd: string;
  let full: string[];
  if (compileOnly || info) {
    const tc = await toolchain();
    cmd = "gcc";
    full = [...muslCompileFlags(tc.gccInclude), ...args];
  } else {
    // musl-gcc's specs file brings musl's crt files, headers and libc.a.
    cmd = "musl-gcc";
    full = ["-static", "-fno-pie", "-no-pie", "-fno-stack-protector", ...args];
  }
  const r = spawnSync(cmd, full, { stdio: "inherit" });
  if (r.error) throw new KilnError(`kiln cc: cannot run ${cmd}: ${r.error.message}. Install gcc and Debian's musl-tools (sudo apt-get install gcc musl-tools).`);
  return r.status ?? 1;
}
