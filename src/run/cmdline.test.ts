import { test } from "node:test";
import assert from "node:assert/strict";
import { composeCmdline, quoteArg, splitCmdline } from "./cmdline.ts";

test("splitCmdline separates params and args", () => {
  assert.deepEqual(splitCmdline("a.b=1 c.d=2 -- x y"), { params: "a.b=1 c.d=2", args: "x y" });
  assert.deepEqual(splitCmdline("-- x"), { params: "", args: "x" });
  assert.deepEqual(splitCmdline("a.b=1"), { params: "a.b=1", args: "" });
  assert.deepEqual(splitCmdline(""), { params: "", args: "" });
});

test("composeCmdline keeps default args unless replaced, and adds params", () => {
  assert.equal(composeCmdline("p.q=1 -- def", [], undefined), "p.q=1 -- def");
  assert.equal(composeCmdline("p.q=1 -- def", ["boot.stats=1"], undefined), "p.q=1 boot.stats=1 -- def");
  assert.equal(composeCmdline("p.q=1 -- def", [], ["a", "b c"]), 'p.q=1 -- a "b c"');
  assert.equal(composeCmdline("", [], []), "");
  assert.equal(composeCmdline("", ["boot.stats=1"], undefined), "boot.stats=1");
});

test("quoteArg escapes quotes and backslashes the way the guest parser reads them", () => {
  assert.equal(quoteArg("x"), "x");
  assert.equal(quoteArg(""), '""');
  assert.equal(quoteArg('a"b'), '"a\\"b"');
  assert.equal(quoteArg("a\\b"), '"a\\\\b"');
});
