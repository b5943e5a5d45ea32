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
