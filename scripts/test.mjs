#!/usr/bin/env node
// Runs every test: TypeScript type check, then node:test over *.test.ts beside the code
// (src/, kernel/) and the integration tests in test/. Extra args filter files by substring.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const filters = process.argv.slice(2);

function find(dir, out) {
  for (const name of readdirSync(dir)) {
    // The walk starts at src/, kernel/ and test/, so the top-level build/ is never entered;
    // src/build must not be skipped.
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith(".test.ts")) out.push(path.relative(root, p));
  }
  return out;
}

let files = ["src", "kernel", "test"].flatMap((d) => find(path.join(root, d), []));
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
files.sort();

if (!filters.length) {
  const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.json", "--noEmit"], { cwd: root, stdio: "inherit" });
  if (tsc.status !== 0) {
    console.error("typecheck failed");
    process.exit(1);
  }
}
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
  { cwd: root, stdio: "inherit" },
);
process.exit(r.status ?? 1);
