// The TAP backend against the real kernel: the host's own UDP and ARP reach the device as RX
// chains, and frames the "guest" (the test driver) transmits reach a host socket. Needs root or
// CAP_NET_ADMIN; skipped with the reason otherwise.
import { test } from "node:test";
import { strict as assert } from "node:assert";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { TestDriver } from "../testing/virtio-driver.ts";
import { NET_F_MAC, NET_HDR_BYTES, NET_RX, NET_TX, VirtioNet } from "../devices/virtio/net.ts";
import { DESC, F, STATUS, bit } from "../devices/virtio/spec.ts";
import { VirtioMmioTransport } from "../devices/virtio/transport.ts";
import { FaultyBackend } from "./faults.ts";
import { Tap, TapBackend, macFor, tapPlan } from "./tap.ts";
import { kilnTaps, tapWhy, tunFds } from "../testing/taps.ts";

const skip = tapWhy;

test("the address plan: kilnN gets the Nth /30 of 10.213.0.0/16 (host .1, guest .2) and MAC 02:6b:69:6c:N", () => {
  assert.deepEqual({ ...tapPlan(0), mac: [...tapPlan(0).mac] }, { hostIp: "10.213.0.1", guestIp: "10.213.0.2", prefix: 30, mac: [2, 0x6b, 0x69, 0x6c, 0, 0] });
  assert.equal(tapPlan(64).guestIp, "10.213.1.2");
  assert.equal(tapPlan(16383).hostIp, "10.213.255.253");
  assert.throws(() => tapPlan(16384), /only kiln0\.\.kiln16383 have an address/);
  assert.notDeepEqual(macFor(1), macFor(257));
});

const ip4 = (s: string): number[] => s.split(".").map(Number);
const csum = (b: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
};
function arpReply(mac: Uint8Array, ipA: string, toMac: number[], toIp: string): Uint8Array {
  return new Uint8Array([...toMac, ...mac, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2, ...mac, ...ip4(ipA), ...toMac, ...ip4(toIp)]);
}
function udpFrame(mac: Uint8Array, toMac: number[], src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const udpLen = 8 + payload.length;
  const ip = new Uint8Array([0x45, 0, 0, 20 + udpLen, 0, 1, 0x40, 0, 64, 17, 0, 0, ...ip4(src), ...ip4(dst)]);
  ip[2] = (20 + udpLen) >> 8;
  ip[3] = (20 + udpLen) & 255;
  const c = csum(ip);
  ip[10] = c >> 8;
  ip[11] = c & 255;
  const udp = new Uint8Array([sport >> 8, sport & 255, dport >> 8, dport & 255, udpLen >> 8, udpLen & 255, 0, 0, ...payload]);
  return new Uint8Array([...toMac, ...mac, 0x08, 0x00, ...ip, ...udp]);
}

test("TAP: the host's ARP and UDP arrive as RX chains, the guest's ARP reply and UDP reach a host socket; the interface goes with its fd", { skip, timeout: 20_000 }, async () => {
  // Tun fds only: other fds come and go with Node's own work, so a total would flake.
  const fdsBefore = tunFds();
  const tap = Tap.open();
  const { hostIp, guestIp, mac } = tap.plan;
  assert.ok(existsSync(`/sys/class/net/${tap.name}`));
  const self = `${tap.name}@${readFileSync(`/sys/class/net/${tap.name}/ifindex`, "utf8").trim()}`;
  const ram = new Uint8Array(0x40000);
  const dev = new VirtioNet({ mac, backend: new TapBackend(tap.fd) });
  const t = new VirtioMmioTransport(dev, ram, { interrupt: () => {} });
  const d = new TestDriver(t, ram);
  assert.equal(d.init([16, 16], bit(F.VERSION_1) | bit(NET_F_MAC)) & STATUS.DRIVER_OK, STATUS.DRIVER_OK);
  const rxBufs = Array.from({ length: 8 }, (_v, i) => d.post(NET_RX, i, NET_HDR_BYTES + 1514, false));
  const received: Uint8Array[] = [];
  const pump = async (until: (f: Uint8Array) => boolean): Promise<Uint8Array> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      dev.poll();
      for (const [head, len] of d.takeUsed(NET_RX)) {
        const f = ram.slice(rxBufs[head]! + NET_HDR_BYTES, rxBufs[head]! + len);
        received.push(f);
        d.setDesc(NET_RX, head, rxBufs[head]!, NET_HDR_BYTES + 1514, DESC.WRITE);
        d.offer(NET_RX, head, false);
        if (until(f)) return f;
      }
      if (Date.now() > deadline) throw new Error(`no such frame within 5 s; got ${received.length} frames`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const sock = createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, hostIp, r));
  const port = sock.address().port;
  try {
    // Host to guest: the kernel asks for the guest's MAC first.
    sock.send(Buffer.from("to the guest"), 4000, guestIp);
    const arp = await pump((f) => f[12] === 0x08 && f[13] === 0x06 && f[21] === 1 && f.subarray(38, 42).join(".") === guestIp);
    const hostMac = [...arp.subarray(6, 12)];
    let txSlot = 0;
    const tx = (frame: Uint8Array): void => {
      const at = d.alloc(NET_HDR_BYTES + frame.length, 1);
      ram.fill(0, at, at + NET_HDR_BYTES);
      ram.set(frame, at + NET_HDR_BYTES);
      d.setDesc(NET_TX, txSlot, at, NET_HDR_BYTES + frame.length, 0);
      d.offer(NET_TX, txSlot);
      txSlot = (txSlot + 1) % 16;
    };
    tx(arpReply(mac, guestIp, hostMac, hostIp));
    const udp = await pump((f) => f[12] === 0x08 && f[13] === 0x00 && f[23] === 17);
    assert.equal(new TextDecoder().decode(udp.subarray(42)), "to the guest");
    assert.equal((udp[36]! << 8) | udp[37]!, 4000);
    // Guest to host.
    const got = new Promise<string>((r) => sock.once("message", (m) => r(m.toString())));
    tx(udpFrame(mac, hostMac, guestIp, hostIp, 4000, port, new TextEncoder().encode("to the host")));
    assert.equal(await got, "to the host");
    assert.equal(t.error, undefined);
    assert.ok(dev.counts.txFrames === 2 && dev.counts.rxFrames >= 2);
  } finally {
    sock.close();
    tap.close();
  }
  // By name and index: the kernel gives a free name to the next TAP at once, and tests in
  // other processes make TAPs too, so the name may already be another's.
  assert.ok(!kilnTaps().includes(self), "the TAP went away with its fd");
  assert.equal(tunFds(), fdsBefore, "no tun fd left behind");
});

test("TAP with fault injection: loss=1 on the way in means the host's frames never reach the guest", { skip, timeout: 20_000 }, async () => {
  const tap = Tap.open();
  try {
    const fb = new FaultyBackend(new TapBackend(tap.fd), { loss: 1, reorder: 0, dup: 0, corrupt: 0, seed: 1 });
    const sock = createSocket("udp4");
    sock.send(Buffer.from("x"), 4000, tap.plan.guestIp);
    await new Promise((r) => setTimeout(r, 300));
    sock.close();
    assert.equal(fb.receive(), null);
    assert.ok(fb.rx.counts.lost >= 1, `lost ${fb.rx.counts.lost}`);
  } finally {
    tap.close();
  }
});

test("TAP: two at once get different names, addresses and MACs", { skip }, () => {
  const a = Tap.open();
  const b = Tap.open();
  try {
    assert.notEqual(a.name, b.name);
    assert.notEqual(a.plan.guestIp, b.plan.guestIp);
    assert.notDeepEqual(a.plan.mac, b.plan.mac);
    assert.match(a.cmdlineWords, /^net\.ip=10\.213\.\d+\.\d+\/30 net\.gw=10\.213\.\d+\.\d+$/);
  } finally {
    a.close();
    b.close();
  }
});
