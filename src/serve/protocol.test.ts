import { test } from "node:test";
import assert from "node:assert/strict";
import { frame, parseRequest, runEnv, sameEnv, takeFrames, VERSION } from "./protocol.ts";
import { checkoutKey } from "./socket-path.ts";

const req = (fields: string[]) => Buffer.from(fields.map((f) => f + "\0").join(""));

test("a request's fields are parsed", () => {
  const r = parseRequest(req([VERSION, "1700000000000000", "/home/x", "010", "2", "KILN_A=1", "PATH=/bin", "run", "img", "--", "a b"]));
  assert.deepEqual(r, { newestUs: 1700000000000000, cwd: "/home/x", stdinTTY: false, stdoutTTY: true, stderrTTY: false, env: { KILN_A: "1", PATH: "/bin" }, argv: ["run", "img", "--", "a b"] });
});

test("malformed requests are refused with the reason", () => {
  const bad: Array<[Buffer, RegExp]> = [
    [Buffer.from("run"), /NUL-terminated/],
    [req(["kiln-serve 0", "0", "/", "000", "0", "run"]), /version/],
    [req([VERSION, "-1", "/", "000", "0", "run"]), /source date/],
    [req([VERSION, "0", "rel", "000", "0", "run"]), /absolute/],
    [req([VERSION, "0", "/", "0", "0", "run"]), /terminal flags/],
    [req([VERSION, "0", "/", "000", "5", "run"]), /environment count/],
    [req([VERSION, "0", "/", "000", "1", "=x", "run"]), /no name/],
    [req([VERSION, "0", "/", "000", "0"]), /too few|no command/],
  ];
  for (const [body, why] of bad) assert.throws(() => parseRequest(body), why);
});

test("frames round-trip, a partial one is left, an overlong one refused", () => {
  const both = Buffer.concat([frame("O", "hé"), frame("X", "3"), frame("E", "partial").subarray(0, 7)]);
  const { frames, rest } = takeFrames(both, 100);
  assert.deepEqual(frames.map((f) => [f.type, f.body.toString()]), [["O", "hé"], ["X", "3"]]);
  assert.equal(rest.length, 7);
  assert.throws(() => takeFrames(frame("O", "x".repeat(101)), 100), /101 bytes/);
});

test("the environment that matters: the launcher's own variables are left out", () => {
  const e = runEnv({ KILN_X: "1", KILN_ROOT: "/r", KILN_BUNDLE: "/b", HOME: "/h", NO_COLOR: "1", TERM: "xterm" });
  assert.deepEqual(e, { KILN_X: "1", NO_COLOR: "1", TERM: "xterm" });
  assert.ok(sameEnv(e, { TERM: "xterm", NO_COLOR: "1", KILN_X: "1" }));
  assert.ok(!sameEnv(e, { TERM: "xterm", KILN_X: "1" }));
  assert.ok(!sameEnv(e, { KILN_X: "2", NO_COLOR: "1", TERM: "xterm" }));
});

test("the checkout key is FNV-1a 64, as the C client computes it", () => {
  assert.equal(checkoutKey(""), "cbf29ce484222325");
  assert.equal(checkoutKey("a"), "af63dc4c8601ec8c");
});
