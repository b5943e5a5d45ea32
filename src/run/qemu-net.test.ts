import { test } from "node:test";
import assert from "node:assert/strict";
import { qemuNet } from "./qemu-net.ts";

test("user mode: a virtio-net device on -netdev user, published ports as hostfwd rules, the contract's addresses", () => {
  const n = qemuNet({ mode: "user", publish: [
    { hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80, proto: "tcp" },
    { hostAddress: "0.0.0.0", hostPort: 5000, guestPort: 5001, proto: "udp" },
  ] });
  assert.deepEqual(n.args, ["-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80,hostfwd=udp:0.0.0.0:5000-10.0.2.15:5001", "-device", "virtio-net-device,netdev=net0"]);
  assert.deepEqual(n.params, ["net.ip=10.0.2.15/24", "net.gw=10.0.2.2"]);
});

test("no options: user mode without published ports; tap is refused with what to use", () => {
  assert.deepEqual(qemuNet(undefined).args, ["-netdev", "user,id=net0", "-device", "virtio-net-device,netdev=net0"]);
  assert.deepEqual(qemuNet({ publish: [] }).params, ["net.ip=10.0.2.15/24", "net.gw=10.0.2.2"]);
  assert.throws(() => qemuNet({ mode: "tap", publish: [] }), /^KilnError: --net tap: not yet supported on the QEMU runner\. Use --net user/);
});
