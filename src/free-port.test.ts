import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { freePort } from "./free-port.ts";

test("freePort gives a TCP and a UDP port that can be bound at once", async () => {
  const tcp = await freePort();
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once("error", reject).listen(tcp, "127.0.0.1", resolve));
  srv.close();
  const udp = await freePort("udp");
  const s = createSocket("udp4");
  await new Promise<void>((resolve, reject) => s.once("error", reject).bind(udp, "127.0.0.1", resolve));
  s.close();
  assert.ok(tcp > 0 && udp > 0);
});
