// `kiln serve`: the resident helper behind the fast `kiln run` (src/serve/client.c). It listens
// on the checkout's private socket, runs each request through the CLI's own code (main(), with
// the client's streams, working directory and terminal flags), keeps vCPU threads and a pool of
// VM shells for each memory size it has run, serves concurrent clients each in its own VM, and
// exits after an idle time, or at once when a client's sources are newer than its code.
import { createConnection, createServer, type Socket } from "node:net";
import { statSync, unlinkSync } from "node:fs";
import { PassThrough } from "node:stream";
import { wantsColor } from "../color.ts";
import { KilnError } from "../errors.ts";
import { main } from "../cli/main.ts";
import { NotServed, type CliIo } from "../cli/io.ts";
import { MAX_REQUEST, frame, parseRequest, runEnv, sameEnv, takeFrames, type Request } from "./protocol.ts";

export interface ServeOptions {
  socket: string;
  /** Exit after this long with no run. */
  idleMs: number;
  /** When the code this process runs was built (ms): a client with newer sources gets "stale". */
  builtMs: number;
  /** Pools of shells are kept for at most this many memory sizes. */
  maxPools?: number;
  log?: (line: string) => void;
}

/** A request must arrive this soon after connecting. */
const REQUEST_TIMEOUT_MS = 5000;
const POOL_SIZE = 2;

export async function serve(opts: ServeOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const ownEnv = runEnv(process.env);
  const { Vm, kvmAvailable } = await import("../vmm/index.ts");
  const avail = kvmAvailable();
  if (!avail.ok) throw new KilnError(`kiln serve: ${avail.reason}; the helper runs images on Kiln's VMM only.`);
  void Vm.prewarm(POOL_SIZE);
  const pools = new Map<number, Promise<{ close(): Promise<void> } | undefined>>();
  const wantPool = (memory: number): void => {
    if (pools.has(memory) || pools.size >= (opts.maxPools ?? 4)) return;
    pools.set(memory, Vm.pool({ size: POOL_SIZE, memory }).catch((e: unknown) => (log(`pool of ${memory} bytes: ${String(e)}`), undefined)));
  };

  let active = 0;
  let closing = false;
  let idle: NodeJS.Timeout | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const server = createServer({ allowHalfOpen: true }, (sock) => void handle(sock));
  let ino: number | undefined;

  const unlinkOurs = (): void => {
    try {
      if (ino !== undefined && statSync(opts.socket).ino === ino) unlinkSync(opts.socket);
    } catch {
      // gone already, or another helper's now
    }
  };
  const shutdown = (): void => {
    if (!closing) {
      closing = true;
      server.close();
      unlinkOurs();
    }
    if (active > 0) return;
    if (idle) clearTimeout(idle);
    void Promise.all([...pools.values()].map(async (p) => (await p)?.close())).finally(done);
  };
  const armIdle = (): void => {
    if (idle) clearTimeout(idle);
    idle = active === 0 ? setTimeout(shutdown, opts.idleMs) : undefined;
  };

  async function handle(sock: Socket): Promise<void> {
    active++;
    armIdle();
    sock.on("error", () => {});
    const send = (type: string, body?: string | Uint8Array) => {
      if (!sock.destroyed && sock.writable) sock.write(frame(type, body));
    };
    try {
      const got = await readRequest(sock).catch((e: unknown) => {
        const why = `kiln serve: malformed request: ${e instanceof Error ? e.message : String(e)}`;
        log(why);
        send("E", why + "\n");
        send("X", "2");
        return undefined;
      });
      if (!got) return;
      const { req } = got;
      if (req.newestUs / 1000 >= opts.builtMs) {
        log("a client's sources are newer than this helper's code: exiting");
        send("S");
        setImmediate(shutdown);
        return;
      }
      if (closing || !sameEnv(runEnv(req.env), ownEnv) || req.argv[0] !== "run" || req.argv.some((a) => a === "--help" || a === "-h")) {
        send("P");
        return;
      }
      const stop = new AbortController();
      // After the request, the client sends only its terminal's input, as I frames.
      const stdin = req.stdinTTY ? new PassThrough() : undefined;
      let pending = got.rest;
      const onInput = (chunk: Buffer): void => {
        try {
          const { frames, rest } = takeFrames(Buffer.concat([pending, chunk]), MAX_REQUEST);
          pending = rest;
          for (const f of frames) if (f.type === "I") stdin?.write(f.body);
        } catch {
          sock.off("data", onInput); // a malformed frame: no more input, the run goes on
        }
      };
      sock.on("data", onInput);
      sock.once("end", () => stop.abort());
      sock.once("close", () => stop.abort());
      const io: CliIo = {
        out: (text) => send("O", text),
        err: (text) => send("E", text),
        errColor: wantsColor({ isTTY: req.stderrTTY }, req.env),
        cwd: req.cwd,
        stdinTTY: req.stdinTTY,
        ...(stdin ? { stdin } : {}),
        accepted: () => send("A"),
        stop: stop.signal,
        served: true,
        prepare: wantPool,
      };
      try {
        const status = await main(["node", "kiln", ...req.argv], io);
        log(`served: ${JSON.stringify(req.argv)} -> ${status}`);
        send("X", String(status));
      } catch (e) {
        if (e instanceof NotServed) {
          log(`plain: ${JSON.stringify(req.argv)}`);
          send("P");
        }
        else {
          // What the plain CLI shows for a failure nothing caught: the stack, status 1.
          send("E", `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
          send("X", "1");
        }
      }
    } finally {
      sock.end();
      active--;
      if (closing) shutdown();
      else armIdle();
    }
  }

  await listen(server, opts.socket);
  ino = statSync(opts.socket).ino;
  log(`kiln serve: listening on ${opts.socket}, idle exit after ${opts.idleMs} ms`);
  armIdle();
  process.once("SIGTERM", shutdown);
  await finished;
}

/** The first frame, a request: within REQUEST_TIMEOUT_MS and MAX_REQUEST bytes. */
function readRequest(sock: Socket): Promise<{ req: Request; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const fail = (why: string) => {
      cleanup();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail("none arrived in time"), REQUEST_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const { frames } = takeFrames(buf, MAX_REQUEST);
        const first = frames[0];
        if (!first) {
          if (buf.length > MAX_REQUEST + 5) fail("too long");
          return;
        }
        if (first.type !== "R") return fail(`frame type ${JSON.stringify(first.type)}, expected "R"`);
        cleanup();
        resolve({ req: parseRequest(first.body), rest: buf.subarray(5 + first.body.length) });
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e));
      }
    };
    const onEnd = () => fail("the connection ended before a whole request");
    const cleanup = () => {
      clearTimeout(timer);
      sock.off("data", onData);
      sock.off("end", onEnd);
    };
    sock.on("data", onData);
    sock.once("end", onEnd);
  });
}

/** Listens on `path`; a socket left by a helper that died is replaced, a live helper's is not. */
async function listen(server: ReturnType<typeof createServer>, path: string): Promise<void> {
  const tryListen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  try {
    await tryListen();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    const alive = await new Promise<boolean>((resolve) => {
      const c = createConnection(path, () => (c.destroy(), resolve(true)));
      c.once("error", () => resolve(false));
    });
    if (alive) throw new KilnError(`kiln serve: a helper already serves this checkout (${path}).`, 0);
    unlinkSync(path);
    await tryListen();
  }
}
