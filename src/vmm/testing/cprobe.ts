// Test support: compile a small C program here with the host gcc and return its stdout, so tests
// can compare the TypeScript view of a C ABI with what the compiler and the system headers say.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export function runC(source: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-cprobe-"));
  try {
    const src = path.join(dir, "probe.c");
    const exe = path.join(dir, "probe");
    writeFileSync(src, source);
    execFileSync("gcc", ["-std=gnu11", "-Wall", "-Werror", "-o", exe, src], { stdio: ["ignore", "pipe", "pipe"] });
    return execFileSync(exe, { encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints `name value` lines for each C expression (evaluated as unsigned long long). */
export function probeValues(includes: string[], prelude: string, exprs: Record<string, string>): Map<string, bigint> {
  const lines = Object.entries(exprs).map(
    ([name, expr]) => `  printf("%s %llu\\n", ${JSON.stringify(name)}, (unsigned long long)(${expr}));`,
  );
  const source = [
    ...includes.map((h) => `#include <${h}>`),
    "#include <stdio.h>",
    "#include <stddef.h>",
    prelude,
    "int main(void) {",
    ...lines,
    "  return 0;",
    "}",
    "",
  ].join("\n");
  const out = new Map<string, bigint>();
  for (const line of runC(source).trim().split("\n")) {
    const [name, value] = line.split(" ");
    if (name !== undefined && value !== undefined) out.set(name, BigInt(value));
  }
  return out;
}
