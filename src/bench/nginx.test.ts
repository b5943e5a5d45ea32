import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { freePort } from "../free-port.ts";
import { NGINX_BINARY, startNginx } from "./nginx.ts";


test("the native peer serves exactly the page, then stops and leaves nothing running", { skip: !existsSync(NGINX_BINARY) && "nginx is a benchmark dependency: make bench-deps" }, async () => {
  const page = Buffer.alloc(612, "k");
  const port = await freePort();
  const server = await startNginx(page, port);
  try {
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), page);
  } finally {
    await server.stop();
  }
  await assert.rejects(fetch(server.url), "nothing listens after stop()");
});
