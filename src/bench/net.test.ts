import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePing } from "./net.ts";

test("ping's summary is read (iputils)", () => {
  const out = `PING 10.213.0.2 (10.213.0.2) 56(84) bytes of data.

--- 10.213.0.2 ping statistics ---
50 packets transmitted, 49 received, 2% packet loss, time 531ms
rtt min/avg/max/mdev = 0.143/0.310/1.912/0.270 ms, ipg/ewma 10.838/0.264 ms
`;
  assert.deepEqual(parsePing(out), { sent: 50, received: 49, min: 0.143, avg: 0.31, max: 1.912 });
  assert.throws(() => parsePing("ping: connect: Network is unreachable\n"), /ping printed no summary/);
});
