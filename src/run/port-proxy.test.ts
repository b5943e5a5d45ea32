// The published-port proxy against local servers standing in for the guest (127.0.0.1): the
// TCP side retries while the "guest" is not listening yet, keeps half-close, and ends its
// connections on close; the UDP relay returns replies to the right client.
import { test } from "node:test";
import { strict as assert } from "node:assert";
import { createServer, connect, type Server } from "node:net";
import { createSocket } from "node:dgram";
import { startPortProxy } from "./port-proxy.ts";
import { freePort } from "../free-port.ts";

const listen = (s: Server, port = 0): Promise<number> =>
  new Promise((r) => s.listen(port, "127.0.0.1", () => r((s.address() as { port: number }).port)));


test("TCP: a connection made before the guest listens is retried until it does, then data flows both ways and half-close passes", { timeout: 20_000 }, async () => {
  const guestPort = await freePort();
  const proxy = await startPortProxy([{ hostAddress: "127.0.0.1", hostPort: 0, guestPort, proto: "tcp" }], "127.0.0.1", { retryEveryMs: 50 });
  try {
    const hostPort = proxy.bound[0]!.boundPort;
    const c = connect(hostPort, "127.0.0.1");
    c.write("hello ");
    c.end("guest");
    let reply = "";
    c.on("data", (d) => (reply += d));
    const ended = new Promise<void>((r) => c.on("end", r));
    await new Promise((r) => setTimeout(r, 300)); // the "guest" is still booting
    assert.ok(proxy.counts.tcpRetries >= 2, `retries: ${proxy.counts.tcpRetries}`);
    // An echo server that answers only after the client's FIN: half-close must pass through.
    const guest = createServer({ allowHalfOpen: true }, (s) => {
      let got = "";
      s.on("data", (d) => (got += d));
      s.on("end", () => s.end(`echo: ${got}`));
    });
    await listen(guest, guestPort);
    await ended;
    assert.equal(reply, "echo: hello guest");
    assert.equal(proxy.counts.tcpConnections, 1);
    await new Promise((r) => guest.close(r));
  } finally {
    await proxy.close();
  }
});

test("TCP: a guest that never comes is given up on after retryForMs; close() ends open connections", { timeout: 20_000 }, async () => {
  const guestPort = await freePort();
  const proxy = await startPortProxy([{ hostAddress: "127.0.0.1", hostPort: 0, guestPort, proto: "tcp" }], "127.0.0.1", { retryEveryMs: 20, retryForMs: 200 });
  const c = connect(proxy.bound[0]!.boundPort, "127.0.0.1");
  c.on("error", () => {});
  await new Promise((r) => c.on("close", r));
  assert.equal(proxy.counts.tcpFailed, 1);
  const guest = createServer((s) => s.on("error", () => {}));
  await listen(guest, guestPort);
  const c2 = connect(proxy.bound[0]!.boundPort, "127.0.0.1");
  c2.on("error", () => {});
  await new Promise((r) => setTimeout(r, 200));
  await proxy.close();
  await new Promise((r) => c2.on("close", r));
  await new Promise((r) => guest.close(r));
});

test("UDP: datagrams reach the guest and each client gets its own replies", { timeout: 20_000 }, async () => {
  const guest = createSocket("udp4");
  await new Promise<void>((r) => guest.bind(0, "127.0.0.1", r));
  guest.on("message", (m, from) => guest.send(`re: ${m}`, from.port, from.address));
  const proxy = await startPortProxy([{ hostAddress: "127.0.0.1", hostPort: 0, guestPort: guest.address().port, proto: "udp" }], "127.0.0.1");
  try {
    const ask = async (text: string): Promise<string> => {
      const c = createSocket("udp4");
      const got = new Promise<string>((r) => c.once("message", (m) => r(m.toString())));
      c.send(text, proxy.bound[0]!.boundPort, "127.0.0.1");
      const reply = await got;
      c.close();
      return reply;
    };
    assert.deepEqual(await Promise.all([ask("a"), ask("b")]), ["re: a", "re: b"]);
    assert.equal(proxy.counts.udpDatagrams, 2);
  } finally {
    await proxy.close();
    guest.close();
  }
});

test("a host port in use is a one-line error naming the -p and the fix, and nothing stays bound", async () => {
  const busy = createServer();
  const port = await listen(busy);
  await assert.rejects(
    startPortProxy([{ hostAddress: "127.0.0.1", hostPort: 0, guestPort: 1, proto: "udp" }, { hostAddress: "127.0.0.1", hostPort: port, guestPort: 80, proto: "tcp" }], "127.0.0.1"),
    new RegExp(`^KilnError: -p 127\\.0\\.0\\.1:${port}:80: cannot listen on 127\\.0\\.0\\.1:${port}/tcp \\(EADDRINUSE\\): the port is in use; pick another host port\\.$`),
  );
  await new Promise((r) => busy.close(r));
});
