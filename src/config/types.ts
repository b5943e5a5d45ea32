// The shapes that pass between the resolver (src/config) and the build (src/build).
// The resolver produces a ResolvedConfig; everything downstream consumes only that.
import type { PortRange } from "./ports.ts";

/** A value an option can hold once resolved. */
export type OptionValue = boolean | number | string;

/** Where a resolved option value came from, for `kiln config`. */
export type ValueOrigin =
  | { kind: "default" }
  | { kind: "app"; file: string } // kiln.yaml `libraries.<lib>.<option>`
  | { kind: "cli" }; // --set lib.option=value

export type OptionType = "bool" | "int" | "string" | "choice";

export interface OptionSpec {
  name: string;
  type: OptionType;
  default: OptionValue;
  help: string;
  min?: number; // int only
  max?: number; // int only
  choices?: string[]; // choice only
}

/** One source file of a library, possibly only when a condition on the library's options holds. */
export interface SourceSpec {
  file: string; // relative to the library directory; .c or .S
  /** `opt` (bool true), `!opt` (bool false) or `opt=value`; absent means always. */
  if?: string;
}

/** A requirement: a library by name, or an API with the provider to use when nobody picks one. */
export type Requirement = { lib: string } | ApiRequirement;
export interface ApiRequirement {
  api: string;
  default: string;
}

/** A library manifest (kernel/**\/<name>/library.yaml) after schema validation. */
export interface LibraryManifest {
  name: string;
  description: string;
  /** Absolute path of the library directory. */
  dir: string;
  /** Absolute path of the manifest file (for error messages). */
  manifestPath: string;
  provides: string[];
  requires: Requirement[];
  /**
   * APIs this library calls but whose providers build on this library (plugins: the allocators
   * on `alloc`, the platform on `boot`). Selecting the library selects a provider, as `requires`
   * would, but the provider comes after this library in dependency order, so there is no cycle.
   */
  implementedBy: ApiRequirement[];
  options: OptionSpec[];
  sources: SourceSpec[];
  /** Symbols other libraries and the app may use; everything else is made local at prelink. */
  exports: string[];
  /** Extra compiler flags for this library's own sources (rarely needed). */
  cflags: string[];
  /** I/O ports the library's code uses: the build allows exactly the selected libraries' ports. */
  ports: PortRange[];
  /** A linker script path relative to the library dir; at most one selected library has one. */
  linkerScript?: string;
}

/** The app's kiln.yaml after schema validation (before resolution). */
export interface AppManifest {
  name: string;
  /** Absolute path of the app directory. */
  dir: string;
  manifestPath: string;
  target: "kvm-x86_64";
  /** Guest memory in bytes. */
  memory: number;
  /** Kernel command line: library parameters (`lib.param=value`); app args go after `--`. */
  cmdline: string;
  /** Absolute paths (checked to exist when the manifest is loaded). */
  sources: string[];
  /** Libraries the app selects, each with option values. */
  libraries: Record<string, Record<string, OptionValue>>;
  cflags: string[];
  /** `rootfs:`, absolute: a directory packed into the initrd (the guest's "/"); library initrd unpacks it. */
  rootfs?: string;
}

export interface ResolvedOption extends OptionSpec {
  value: OptionValue;
  origin: ValueOrigin;
}

export interface ResolvedLibrary {
  manifest: LibraryManifest;
  options: ResolvedOption[];
  /** Source files (absolute paths) selected by the option values. */
  sources: string[];
  /**
   * Why it is in the image: "app", "target:<target>" (a base library of the target), "--test"
   * (the test runner of a test image), or the name of the first library that required it.
   */
  selectedBy: string;
  /** Set when it was chosen as the default provider of this API for `selectedBy`. */
  defaultFor?: string;
}

export interface ResolvedConfig {
  app: AppManifest;
  /** Every selected library in dependency order (a library comes after everything it requires). */
  libraries: ResolvedLibrary[];
  /** API name -> the library chosen to provide it. */
  providers: Record<string, string>;
  /** Build flavour switches from the CLI. */
  lto: boolean;
  debug: boolean;
  /** Build the image for testing: the guest test library runs registered tests at boot. */
  test: boolean;
}
