import { after, test } from "node:test";
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FileCache, hashInputs, objectStem, parseDepfile, searchDirs, shadowCandidates } from "./graph.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-graph-test-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const put = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

test("parseDepfile: continuations, escaped spaces and $$", () => {
  const d = "obj/x.tmp.o: /src/a.c /inc/a.h \\\n /inc/with\\ space.h \\\n  /inc/dollar$$.h\n";
  assert.deepEqual(parseDepfile(d), ["/src/a.c", "/inc/a.h", "/inc/with space.h", "/inc/dollar$.h"]);
  assert.deepEqual(parseDepfile("x.o:\n"), []);
  assert.deepEqual(parseDepfile("garbage"), []);
});

test("hashInputs changes with the source, a header, the flags and the config header, and not otherwise", () => {
  const src = put("a.c", "int a;");
  const hdr = put("a.h", "#define A 1");
  const h = () => hashInputs(new FileCache(), ["-O2"], "#define X 1", src, [hdr]);
  const base = h();
  assert.match(base!, /^[0-9a-f]{20}$/);
  assert.equal(h(), base, "deterministic");
  assert.equal(hashInputs(new FileCache(), ["-O2"], "#define X 1", src, [hdr, hdr].slice(0, 1)), base);
  assert.notEqual(hashInputs(new FileCache(), ["-O0"], "#define X 1", src, [hdr]), base, "flags");
  assert.notEqual(hashInputs(new FileCache(), ["-O2"], "#define X 2", src, [hdr]), base, "config header");
  assert.notEqual(hashInputs(new FileCache(), ["-O2", "-g"], "#define X 1", src, [hdr]), hashInputs(new FileCache(), ["-O2-g"], "#define X 1", src, [hdr]), "flag boundaries");
  put("a.h", "#define A 2");
  assert.notEqual(h(), base, "header bytes");
  put("a.h", "#define A 1");
  assert.equal(h(), base);
  put("a.c", "int a = 1;");
  assert.notEqual(h(), base, "source bytes");
  assert.equal(hashInputs(new FileCache(), [], "", src, [path.join(dir, "gone.h")]), undefined, "a vanished header forces a compile");
  assert.equal(hashInputs(new FileCache(), [], "", path.join(dir, "gone.c"), []), undefined);
});

test("FileCache reads once until told to forget", () => {
  const p = put("c.h", "one");
  const cache = new FileCache();
  assert.equal(cache.read(p)?.toString(), "one");
  put("c.h", "two");
  assert.equal(cache.read(p)?.toString(), "one");
  cache.forget(p);
  assert.equal(cache.read(p)?.toString(), "two");
  assert.equal(cache.read(path.join(dir, "none")), null);
});

test("objectStem flattens paths into safe file names", () => {
  assert.equal(objectStem("printf.c"), "printf");
  assert.equal(objectStem("tests/test_printf.c"), "tests_test_printf");
  assert.equal(objectStem("entry.S"), "entry");
  assert.equal(objectStem("../x y.c"), "__x_y");
});

test("search dirs follow gcc's order; shadow candidates are the dep's name in every earlier dir", () => {
  const dirs = searchDirs("/k/util/util.c", ["-O2", "-I", "/k/plat/include", "-I/k/util/include", "-isystem", "/gcc/include", "-include", "/o/config.h"]);
  assert.deepEqual(dirs, ["/k/util", "/k/plat/include", "/k/util/include", "/gcc/include"]);
  assert.deepEqual(shadowCandidates(dirs, ["/k/util/include/util/detail.h", "/o/config.h", "/k/plat/include/plat/plat.h"]), [
    "/k/util/util/detail.h",
    "/k/plat/include/util/detail.h",
    "/k/util/plat/plat.h",
  ]);
  assert.deepEqual(shadowCandidates(dirs, ["/gcc/include/stdint.h"]).length, 3);
});
