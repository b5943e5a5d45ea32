import { test } from "node:test";
import assert from "node:assert/strict";
import { wantsColor } from "./color.ts";

test("colour goes to a terminal only; CI being set does not turn it on for a pipe", () => {
  assert.equal(wantsColor({ isTTY: true }, {}), true);
  assert.equal(wantsColor({ isTTY: false }, {}), false);
  assert.equal(wantsColor({}, { CI: "true" }), false, "regression: picocolors colours any stream under CI");
  assert.equal(wantsColor({ isTTY: true }, { TERM: "dumb" }), false);
});

test("NO_COLOR and FORCE_COLOR override the terminal check", () => {
  assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: "1" }), false);
  assert.equal(wantsColor({ isTTY: false }, { FORCE_COLOR: "1" }), true);
  assert.equal(wantsColor({ isTTY: true }, { FORCE_COLOR: "0" }), true, "FORCE_COLOR=0 does not force; the terminal decides");
  assert.equal(wantsColor({ isTTY: false }, { FORCE_COLOR: "0" }), false);
});
