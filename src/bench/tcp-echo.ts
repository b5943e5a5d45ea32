// TCP throughput through an echo server: the client streams `bytes` and reads them back on the
// same connection; both directions run at once, so the figure is each direction's rate.
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { KilnError } from "../errors.ts";

export interface EchoThroughput {
  bytes: number;
  ms: number;
  /** Megabytes (10^6) a second in each direction. */
  mb_per_s: number;
}

const rate = (bytes: number, ms: number): EchoThroughput => ({ bytes, ms: Number(ms.toFixed(1)), mb_per_s: Number((bytes / 1e6 / (ms / 1000)).toFixed(2)) });

/**
 * Writes `bytes` (chunk after chunk) as fast as the socket drains, showing each piece to
 * `onPiece` first, and calls `written` once all are queued. Returns how many are queued so far.
 */
function stream(sock: Socket, chunk: Buffer, bytes: number, onPiece: (piece: Buffer) => void, written: () => void): () => number {
  let queued = 0;
  const pump = () => {
    while (queued < bytes) {
      const n = Math.min(chunk.length, bytes - queued);
      const piece = n === chunk.length ? chunk : chunk.subarray(0, n);
      onPiece(piece);
      queued += n;
      if (!sock.write(piece)) return; // resumed on 'drain'
    }
    sock.off("drain", pump);
    written();
  };
  sock.on("drain", pump);
  pump();
  return () => queued;
}

export async function echoThroughput(host: string, port: number, bytes: number, timeoutMs = 120_000): Promise<EchoThroughput> {
  const chunk = randomBytes(64 * 1024);
  const sent = createHash("sha256");
  const got = createHash("sha256");
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    sock.setNoDelay(true);
    let received = 0;
    let t0 = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new KilnError(`echo ${host}:${port}: ${received} of ${bytes} bytes back after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", () => {
      t0 = performance.now();
      stream(sock, chunk, bytes, (piece) => sent.update(piece), () => {});
    });
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
        resolve(rate(bytes, ms));
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
    let received = 0;
    let queued = () => 0;
    const moved = () => (direction === "to" ? queued() : received);
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) return reject(err);
      resolve(rate(bytes, performance.now() - t0));
    };
    const timer = setTimeout(() => done(new KilnError(`${direction === "to" ? "discard" : "source"} ${host}:${port}: ${moved()} of ${bytes} bytes after ${timeoutMs} ms`)), timeoutMs);
    sock.on("error", (e) => done(new KilnError(`${host}:${port}: ${e.message}`)));
    sock.on("connect", () => {
      t0 = performance.now();
      if (direction === "from") return;
      // The server closes once it has read everything: that is the time.
      queued = stream(sock, chunk, bytes, () => {}, () => sock.end());
    });
    sock.on("data", (d: Buffer) => {
      if (direction !== "from") return;
      received += d.length;
      if (received >= bytes) done();
    });
    sock.on("end", () => {
      if (direction === "to") done(queued() === bytes ? undefined : new KilnError(`discard ${host}:${port}: closed after ${queued()} of ${bytes} bytes`));
      else done(new KilnError(`source ${host}:${port}: ended after ${received} of ${bytes} bytes`));
    });
  });
}
