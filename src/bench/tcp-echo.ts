// TCP throughput through an echo server: the client streams `bytes` and reads them back on the
// same connection; both directions run at once, so the figure is each direction's rate.
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { KilnError } from "../errors.ts";

export interface EchoThroughput {
  bytes: number;
  ms: number;
  /** Megabytes (10^6) a second in each direction. */
  mb_per_s: number;
}

export async function echoThroughput(host: string, port: number, bytes: number, timeoutMs = 120_000): Promise<EchoThroughput> {
  const chunk = randomBytes(64 * 1024);
  const sent = createHash("sha256");
  const got = createHash("sha256");
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    sock.setNoDelay(true);
    let written = 0;
    let received = 0;
    let t0 = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new KilnError(`echo ${host}:${port}: ${received} of ${bytes} bytes back after ${timeoutMs} ms`));
    }, timeoutMs);
    const pump = () => {
      while (written < bytes) {
        const n = Math.min(chunk.length, bytes - written);
        const piece = n === chunk.length ? chunk : chunk.subarray(0, n);
        sent.update(piece);
        written += n;
        if (!sock.write(piece)) return; // resumed on 'drain'
      }
    };
    sock.on("connect", () => {
      t0 = performance.now();
      pump();
    });
    sock.on("drain", pump);
    sock.on("data", (d: Buffer) => {
      got.update(d);
      received += d.length;
      if (received >= bytes) {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        sock.destroy();
        if (received !== bytes || sent.digest("hex") !== got.digest("hex")) {
          reject(new KilnError(`echo ${host}:${port}: the ${bytes} bytes came back altered (${received} bytes)`));
          return;
        }
        resolve({ bytes, ms: Number(ms.toFixed(1)), mb_per_s: Number((bytes / 1e6 / (ms / 1000)).toFixed(2)) });
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(new KilnError(`echo ${host}:${port}: ${e.message}`));
    });
  });
}

/** One direction: `bytes` to a discard server (timed to its close after our end), or read from a source server. */
export async function oneWay(host: string, port: number, bytes: number, direction: "to" | "from", timeoutMs = 120_000): Promise<EchoThroughput> {
  const chunk = Buffer.alloc(64 * 1024, 0x6b);
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let t0 = 0;
    let moved = 0;
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) return reject(err);
      const ms = performance.now() - t0;
      resolve({ bytes, ms: Number(ms.toFixed(1)), mb_per_s: Number((bytes / 1e6 / (ms / 1000)).toFixed(2)) });
    };
    const timer = setTimeout(() => done(new KilnError(`${direction === "to" ? "discard" : "source"} ${host}:${port}: ${moved} of ${bytes} bytes after ${timeoutMs} ms`)), timeoutMs);
    sock.on("error", (e) => done(new KilnError(`${host}:${port}: ${e.message}`)));
    sock.on("connect", () => {
      t0 = performance.now();
      if (direction === "from") return;
      const pump = () => {
        while (moved < bytes) {
          const n = Math.min(chunk.length, bytes - moved);
          moved += n;
          if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return;
        }
        sock.end(); // the server closes once it has read everything: that is the time
      };
      sock.on("drain", pump);
      pump();
    });
    sock.on("data", (d: Buffer) => {
      if (direction !== "from") return;
      moved += d.length;
      if (moved >= bytes) done();
    });
    sock.on("end", () => {
      if (direction === "to") done(moved === bytes ? undefined : new KilnError(`discard ${host}:${port}: closed after ${moved} of ${bytes} bytes`));
      else done(new KilnError(`source ${host}:${port}: ended after ${moved} of ${bytes} bytes`));
    });
  });
}
