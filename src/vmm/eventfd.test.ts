import { test } from "node:test";
import { strict as assert } from "node:assert";
import { loadEventSys } from "./eventfd.ts";
import { loadSys } from "./sys.ts";

test("eventfd: signal wakes poll, drain reads and clears the count", () => {
  const ev = loadEventSys();
  const a = ev.eventfd();
  const b = ev.eventfd();
  assert.ok(a >= 0 && b >= 0);
  try {
    assert.deepEqual(ev.poll([a, b], 0), []);
    ev.signal(b);
    ev.signal(b);
    assert.deepEqual(ev.poll([a, b], 1000), [b]);
    assert.equal(ev.drain(b), 2);
    assert.equal(ev.drain(b), 0, "non-blocking: an empty counter reads 0 at once");
    assert.deepEqual(ev.poll([a, b], 0), []);
  } finally {
    loadSys().close(a);
    loadSys().close(b);
  }
});
