#!/usr/bin/env node
// The kiln CLI. The toolchain is TypeScript run through tsx, so there is no build step for it.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
