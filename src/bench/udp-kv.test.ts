import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { udpKvLoad } from "./udp-kv.ts";

// A stand-in server speaking apps/udp-kv's protocol (SET/GET), optionally dropping requests.
async function server(drop: (n: number) => boolean, corrupt = false) {
  const kv = new Map<string, string>();
  const s = createSocket("udp4");
  let n = 0;
  s.on("message", (m, from) => {
    if (drop(n++)) return;
    const t = m.toString("latin1");
    const set = /^SET (\S+) (.*)$/s.exec(t);
    let reply: string;
    if (set) {
      kv.set(set[1]!, set[2]!);
      reply = "OK";
    } else {
      const v = kv.get(t.slice(4));
      reply = v === undefined ? "NOT_FOUND" : `VALUE ${corrupt ? v + "!" : v}`;
    }
    s.send(reply, from.port, from.address);
  });
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return { port: s.address().port, close: () => s.close() };
}

test("udp-kv load: GETs answered with the values SET, losses resent and counted", async () => {
  const ok = await server((n) => n % 97 === 50);
  try {
    const r = await udpKvLoad("127.0.0.1", ok.port, { seconds: 0.5, window: 8, keys: 100 });
    assert.ok(r.requests > 100, JSON.stringify(r));
    assert.ok(r.lost > 0, "the dropped requests were noticed");
  } finally {
    ok.close();
  }
  const bad = await server(() => false, true);
  try {
    await assert.rejects(udpKvLoad("127.0.0.1", bad.port, { seconds: 0.3, window: 4, keys: 10 }), /wrong value for k\d+/);
  } finally {
    bad.close();
  }
});
