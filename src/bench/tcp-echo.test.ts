import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { echoThroughput, oneWay } from "./tcp-echo.ts";

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

test("one way: to a discard server (timed to its close) and from a source server", async () => {
  let got = 0;
  const discard = await serve((s) => {
    s.on("data", (d: Buffer) => (got += d.length));
    s.on("end", () => s.end());
  });
  const source = await serve((s) => {
    const chunk = Buffer.alloc(65536, 1);
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
    };
    s.on("drain", pump);
    s.on("error", () => {});
    pump();
  });
  try {
    const to = await oneWay("127.0.0.1", discard.port, 2_000_000, "to");
    assert.equal(got, 2_000_000);
    assert.equal(to.bytes, 2_000_000);
    const from = await oneWay("127.0.0.1", source.port, 2_000_000, "from");
    assert.ok(from.mb_per_s > 0);
  } finally {
    discard.close();
    source.close();
  }
  const early = await serve((s) => s.end());
  try {
    await assert.rejects(oneWay("127.0.0.1", early.port, 1_000_000, "from"), /ended after 0 of 1000000 bytes/);
  } finally {
    early.close();
  }
});
