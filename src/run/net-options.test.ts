import { test } from "node:test";
import assert from "node:assert/strict";
import { parseNetMode, parsePublish, parsePublishList } from "./net-options.ts";

test("-p takes HOST:GUEST, an address and a protocol", () => {
  assert.deepEqual(parsePublish("8080:80"), { hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80, proto: "tcp" });
  assert.deepEqual(parsePublish("0.0.0.0:5353:53/udp"), { hostAddress: "0.0.0.0", hostPort: 5353, guestPort: 53, proto: "udp" });
});

test("a bad -p is a one-line error naming the value", () => {
  for (const [spec, why] of [
    ["80", /expected HOST:GUEST/],
    ["0:80", /host port "0" is not a port/],
    ["8080:65536", /guest port "65536"/],
    ["8080:80/sctp", /unknown protocol "sctp"/],
    ["1.2.3:8080:80", /not an IPv4 address/],
    ["300.1.1.1:8080:80", /not an IPv4 address/],
    ["a:b:c:d", /expected HOST:GUEST/],
  ] as const) {
    assert.throws(() => parsePublish(spec), (e: Error) => why.test(e.message) && e.message.includes(spec), spec);
  }
  assert.throws(() => parsePublishList(["8080:80", "8080:81"]), /host port 8080\/tcp on 127.0.0.1 is published twice/);
  assert.equal(parsePublishList(["8080:80", "8080:80/udp"]).length, 2);
  assert.throws(() => parseNetMode("bridge"), /--net: unknown network "bridge"/);
});
