import { test } from "node:test";
import { strict as assert } from "node:assert";
import type { LibraryManifest } from "../config/types.ts";
import { explainUndefined, parseMissingHeaders, parseUndefined } from "./missing.ts";
import type { BuildUnit } from "./unit.ts";

const LD = `ld: lib/app.o: in function \`main':
main.c:(.text.startup.main+0xf): undefined reference to \`malloc'
ld: (.text.startup.main+0x29): undefined reference to \`free'
ld: (.text.startup.main+0x31): undefined reference to \`malloc'
ld: lib/sched-coop.o:(.data.rel.p+0x0): undefined reference to \`mmu_guard_page'
ld: /abs/build/lib/app.o: in function \`f':
x.c:(.text.f+0x1): undefined reference to \`free'
`;

test("ld's undefined references are read with the unit that makes them, each once", () => {
  assert.deepEqual(parseUndefined(LD), [
    { symbol: "malloc", from: "app" },
    { symbol: "free", from: "app" },
    { symbol: "mmu_guard_page", from: "sched-coop" },
  ]);
  assert.deepEqual(parseUndefined("ld: warning: something\n"), []);
  assert.deepEqual(parseUndefined("undefined reference to `x'\n"), [{ symbol: "x" }], "no object named: still found");
});

const unit = (name: string, manifestPath = `/k/${name}/library.yaml`): BuildUnit => ({ name, dir: "/k", sources: [], exports: [], cflags: [], manifestPath });
const lib = (name: string, exports: string[]) => ({ name, exports }) as LibraryManifest;

test("the advice names the library to select, or the requires to extend, grouped per user", () => {
  const units = [unit("sched-coop"), unit("app", "/apps/a/kiln.yaml")];
  const known = new Map([["alloc", lib("alloc", ["malloc", "free"])], ["mmu", lib("mmu", ["mmu_guard_page"])], ["sched-coop", lib("sched-coop", [])]]);
  const lines = explainUndefined(parseUndefined(LD), { units, hidden: new Map(), known });
  assert.deepEqual(lines, [
    "malloc, free (used by the app): exported by library alloc, which this image does not select. Add it under libraries in /apps/a/kiln.yaml (alloc: {}).",
    "mmu_guard_page (used by library sched-coop): exported by library mmu, which this image does not select. Library sched-coop uses it: add mmu to the requires of /k/sched-coop/library.yaml.",
  ]);
});

test("a symbol hidden in a selected library, or exported by none, gets its own advice", () => {
  const units = [unit("util"), unit("app", "/apps/a/kiln.yaml")];
  const refs = [{ symbol: "util_private", from: "app" }, { symbol: "nope", from: "app" }];
  const lines = explainUndefined(refs, { units, hidden: new Map([["util_private", "util"]]) });
  assert.match(lines[0]!, /^util_private \(used by the app\): defined in library util but not exported, so it is private to it\. If it is meant as API, add it to exports in \/k\/util\/library\.yaml\.$/);
  assert.match(lines[1]!, /^nope \(used by the app\): no library under kernel\/ exports it: define it \(in the app\), or check the name\.$/);
  // A selected library that exports it without defining it: its options left the source out.
  const again = explainUndefined([{ symbol: "util_add", from: "app" }], { units, hidden: new Map(), known: new Map([["util", lib("util", ["util_add"])]]) });
  assert.match(again[0]!, /^util_add \(used by the app\): library util exports it but does not define it here: an option of util may leave out the source/);
});

test("the headers gcc could not find are read from its output, each once", () => {
  const out = "a.c:2:10: fatal error: alloc/alloc.h: No such file or directory\n    2 | #include <alloc/alloc.h>\nb.c:1:10: fatal error: alloc/alloc.h: No such file or directory\nc.c:1: error: expected ';'\n";
  assert.deepEqual(parseMissingHeaders(out), ["alloc/alloc.h"]);
  assert.deepEqual(parseMissingHeaders("c.c:1: error: expected ';'\n"), []);
});
