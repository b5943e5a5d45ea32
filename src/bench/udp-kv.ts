// A load client for apps/udp-kv (its README has the protocol): the keys are SET one at a time,
// then GETs run for `seconds` with `window` outstanding; every reply is checked. UDP may drop:
// a request unanswered after 200 ms is sent again and counted as lost.
import { createSocket } from "node:dgram";
import { KilnError } from "../errors.ts";

export interface UdpKvResult {
  requests: number;
  seconds: number;
  req_per_s: number;
  lost: number;
}

const value = (k: number) => `v${k}-${"x".repeat(k % 40)}`;

export async function udpKvLoad(host: string, port: number, opts: { seconds: number; window: number; keys: number }): Promise<UdpKvResult> {
  if (opts.window > opts.keys) throw new KilnError(`udp-kv load: a window of ${opts.window} needs at least as many keys`);
  const sock = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    sock.once("error", reject);
    sock.connect(port, host, () => resolve());
  });
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<UdpKvResult>((resolve, reject) => {
      const fail = (why: string) => {
        done = true;
        reject(new KilnError(`udp-kv ${host}:${port}: ${why}`));
      };
      const pending = new Map<number, number>(); // key -> sent at
      let lost = 0;
      let requests = 0;
      let setting = 0; // the key being SET; = keys once the GETs run
      let next = 0;
      let t0 = 0;
      let end = 0;
      const send = (k: number) => {
        if (done) return;
        pending.set(k, performance.now());
        sock.send(setting < opts.keys ? `SET k${k} ${value(k)}` : `GET k${k}`);
      };
      const finish = () => {
        done = true;
        const secs = (performance.now() - t0) / 1000;
        resolve({ requests, seconds: Number(secs.toFixed(3)), req_per_s: Math.round(requests / secs), lost });
      };
      sock.on("message", (msg: Buffer) => {
        if (done) return;
        const text = msg.toString("latin1");
        if (setting < opts.keys) {
          if (text !== "OK") return fail(`SET answered ${JSON.stringify(text.slice(0, 80))}`);
          if (!pending.delete(setting)) return; // a reply to a resent SET
          if (++setting < opts.keys) return send(setting);
          t0 = performance.now();
          end = t0 + opts.seconds * 1000;
          for (; next < opts.window; next++) send(next);
          return;
        }
        const m = /^VALUE v(\d+)-/.exec(text);
        if (!m) return fail(`unexpected reply ${JSON.stringify(text.slice(0, 80))}`);
        const k = Number(m[1]);
        if (text !== `VALUE ${value(k)}`) return fail(`wrong value for k${k}: ${JSON.stringify(text.slice(0, 80))}`);
        if (!pending.delete(k)) return; // a late duplicate
        requests++;
        // The next key not in flight (a window never holds one key twice).
        if (performance.now() < end) {
          while (pending.has(next % opts.keys)) next++;
          send(next++ % opts.keys);
        } else if (pending.size === 0) finish();
      });
      timer = setInterval(() => {
        const now = performance.now();
        for (const [k, at] of pending) {
          if (now - at < 200) continue;
          lost++;
          if (setting >= opts.keys && now >= end) pending.delete(k);
          else send(k);
        }
        if (setting >= opts.keys && now >= end && pending.size === 0) finish();
        if (setting < opts.keys && lost > 50) fail(`no answer to SET k${setting} (is the server up?)`);
      }, 50);
      send(0);
    });
  } finally {
    done = true;
    clearInterval(timer);
    sock.close();
  }
}
