// Where the helper of a checkout listens: a Unix socket in a directory private to the user
// ($KILN_SERVE_DIR, else $XDG_RUNTIME_DIR/kiln, else /tmp/kiln-<uid>), named by a hash of the
// checkout's path (FNV-1a 64, as src/serve/client.c computes it).
import { lstatSync, mkdirSync } from "node:fs";
import path from "node:path";
import { KilnError } from "../errors.ts";

export function checkoutKey(root: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(root, "utf8")) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, "0");
}

export function serveDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_SERVE_DIR) return env.KILN_SERVE_DIR;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, "kiln");
  return `/tmp/kiln-${process.getuid?.() ?? 0}`;
}

/** The socket's path, its directory made (0700) and checked to be the user's alone. */
export function socketPath(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = serveDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0)
    throw new KilnError(`kiln serve: ${dir} is not a directory private to this user (owned by you, mode 0700); remove it or set KILN_SERVE_DIR.`);
  return path.join(dir, `${checkoutKey(root)}.sock`);
}
