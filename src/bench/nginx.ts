// The native peer of `kiln bench net`: Debian's nginx serving the same 612-byte page as
// apps/httpreply, on loopback, one worker process (the guest has one vCPU), logs off.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { KilnError } from "../errors.ts";

export const NGINX_BINARY = process.env.KILN_NGINX ?? "/usr/sbin/nginx";

export interface NativeServer {
  url: string;
  stop(): Promise<void>;
}

/** Waits until something accepts TCP connections on host:port. */
export async function waitForPort(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new KilnError(`${what} did not accept connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startNginx(page: Buffer, port: number): Promise<NativeServer> {
  if (spawnSync(NGINX_BINARY, ["-v"], { stdio: "ignore" }).status !== 0) {
    throw new KilnError(`${NGINX_BINARY} not found. Install it: apt-get install nginx-light (or run 'make bench-deps').`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-nginx-"));
  mkdirSync(path.join(dir, "html"));
  mkdirSync(path.join(dir, "logs"));
  writeFileSync(path.join(dir, "html", "index.html"), page);
  writeFileSync(
    path.join(dir, "nginx.conf"),
    [
      "daemon off;",
      "master_process off;",
      "worker_processes 1;",
      `error_log ${dir}/logs/error.log;`,
      `pid ${dir}/nginx.pid;`,
      "events { worker_connections 4096; }",
      "http {",
      "  access_log off;",
      `  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;`,
      `  server { listen 127.0.0.1:${port}; root ${dir}/html; keepalive_requests 1000000; }`,
      "}",
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(NGINX_BINARY, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  try {
    await Promise.race([
      waitForPort("127.0.0.1", port, 10_000, "nginx"),
      exited.then(() => {
        throw new KilnError(`nginx exited at start: ${stderr.trim()}`);
      }),
    ]);
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
