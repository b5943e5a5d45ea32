// Kiln's own VMM on /dev/kvm: the public surface.
export { Vm, type VmOptions, type VmResult, type ConsoleSink } from "./vm.ts";
export { kvmAvailable, type KvmAvailability } from "./available.ts";
export type { ExitReason, VmExit } from "./run-loop.ts";
export { VmImageError, VmConfigError, KvmError, type ImageErrorCode } from "./errors.ts";
export { inspectImage } from "./loader.ts";
