// Human-readable reports for `kiln config` and `kiln libs` (plain text; the CLI adds nothing).
import * as path from "node:path";
import { repoRoot } from "../paths.ts";
import type { ApiRequirement, LibraryManifest, OptionSpec, ResolvedConfig } from "./types.ts";
import { describeSelection } from "./resolver.ts";
import { originLabel } from "./emit.ts";
import { formatMemory } from "./app.ts";
import { formatValue } from "./values.ts";
import { declaredPorts, formatPortRange, ioBitmap } from "./ports.ts";

/** Aligns rows into columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly string[][], indent = "  "): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd());
}

function rel(p: string): string {
  const r = path.relative(repoRoot, p);
  return r.startsWith("..") ? p : r.split(path.sep).join("/");
}

/** `kiln config`: the app, each selected library (why, what API) and each option (value, origin). */
export function formatConfig(cfg: ResolvedConfig): string {
  const a = cfg.app;
  const flags = [cfg.test && "test image", cfg.lto && "lto", cfg.debug && "debug"].filter(Boolean).join(", ");
  const out = [
    `app ${a.name} (${rel(a.manifestPath)})`,
    `  target ${a.target}, memory ${formatMemory(a.memory)}, cmdline ${JSON.stringify(a.cmdline)}${flags ? `, ${flags}` : ""}`,
    "",
    `libraries (${cfg.libraries.length}, in dependency order)`,
  ];
  const chosen = new Map<string, string[]>();
  for (const [api, lib] of Object.entries(cfg.providers)) chosen.set(lib, [...(chosen.get(lib) ?? []), api]);
  out.push(
    ...table(
      cfg.libraries.map((l) => {
        const apis = chosen.get(l.manifest.name) ?? [];
        return [l.manifest.name, describeSelection(l.selectedBy, l.defaultFor), apis.length ? `provides ${apis.sort().join(", ")}` : ""];
      }),
    ),
  );
  const rows = cfg.libraries.flatMap((l) =>
    l.options.map((o) => [`${l.manifest.name}.${o.name}`, formatValue(o.value), originLabel(o.origin), o.help]),
  );
  out.push("", rows.length ? "options" : "options: none", ...table(rows));
  const ports = declaredPorts(cfg.libraries);
  out.push(
    "",
    ports.length ? `I/O ports (the TSS I/O bitmap, ${ioBitmap(ports.map((p) => p.range)).length + 1} bytes; every other port faults)` : "I/O ports: none (every port faults)",
    ...table(ports.map((p) => [formatPortRange(p.range), p.lib, p.range.why ?? ""])),
  );
  return out.join("\n") + "\n";
}

function optionRange(o: OptionSpec): string {
  if (o.type === "choice") return (o.choices ?? []).join("|");
  if (o.type === "int" && (o.min !== undefined || o.max !== undefined)) return `${o.min ?? ""}..${o.max ?? ""}`;
  return "";
}

const apiRequirement = (r: ApiRequirement) => `api ${r.api} (default ${r.default})`;

/** `kiln libs`: every library with description, provides, requires and options. */
export function formatLibraries(libs: ReadonlyMap<string, LibraryManifest>): string {
  const out: string[] = [];
  for (const name of [...libs.keys()].sort()) {
    const l = libs.get(name)!;
    out.push(`${l.name}  (${rel(l.dir)})`, `  ${l.description}`);
    if (l.provides.length) out.push(`  provides: ${l.provides.join(", ")}`);
    if (l.requires.length) {
      const reqs = l.requires.map((r) => ("lib" in r ? r.lib : apiRequirement(r)));
      out.push(`  requires: ${reqs.join(", ")}`);
    }
    if (l.implementedBy.length) {
      out.push(`  implemented by: ${l.implementedBy.map(apiRequirement).join(", ")}`);
    }
    if (l.ports.length) out.push(`  ports: ${l.ports.map(formatPortRange).join(", ")}`);
    if (l.options.length) {
      out.push("  options:");
      out.push(...table(l.options.map((o) => [o.name, o.type, `default ${formatValue(o.default)}`, optionRange(o), o.help]), "    "));
    }
    out.push("");
  }
  if (!out.length) out.push("no libraries found", "");
  return out.join("\n");
}

/** `kiln libs --json`: the manifests with paths relative to the repo. */
export function librariesJson(libs: ReadonlyMap<string, LibraryManifest>): object[] {
  return [...libs.keys()].sort().map((name) => {
    const l = libs.get(name)!;
    return {
      name: l.name,
      description: l.description,
      dir: rel(l.dir),
      provides: l.provides,
      requires: l.requires,
      implementedBy: l.implementedBy,
      options: l.options,
      exports: l.exports,
      ...(l.linkerScript !== undefined ? { linkerScript: l.linkerScript } : {}),
    };
  });
}
