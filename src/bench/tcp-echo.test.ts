import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { echoThroughput } from "./tcp-echo.ts";

const serve = (handler: (s: Socket) => void) =>
  new Promise<{ port: number; close: () => void }>((resolve) => {
    const srv = createServer(handler).listen(0, "127.0.0.1", () => {
      const a = srv.address();
      resolve({ port: typeof a === "object" && a ? a.port : 0, close: () => srv.close() });
    });
  });

test("echo throughput: every byte must come back unchanged", async () => {
  const good = await serve((s) => s.pipe(s));
  try {
    const r = await echoThroughput("127.0.0.1", good.port, 3_000_000);
    assert.equal(r.bytes, 3_000_000);
    assert.ok(r.mb_per_s > 0);
  } finally {
    good.close();
  }
  const flips = await serve((s) => s.on("data", (d: Buffer) => s.write(Buffer.from(d.map((b, i) => (i === 0 ? b ^ 1 : b))))));
  try {
    await assert.rejects(echoThroughput("127.0.0.1", flips.port, 200_000), /came back altered/);
  } finally {
    flips.close();
  }
});
