// A loopback port nobody is bound to now (the kernel picks it), for servers a run or a
// benchmark starts and for tests.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

export async function freePort(proto: "tcp" | "udp" = "tcp"): Promise<number> {
  if (proto === "udp") {
    const s = createSocket("udp4");
    await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
    const { port } = s.address();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
