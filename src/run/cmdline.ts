// The kernel command line is `<library params> -- <app args>`. An app's kiln.yaml gives a default;
// `kiln run ... -- args` replaces its args and `--param k=v` adds parameters.

export function splitCmdline(cmdline: string): { params: string; args: string } {
  const words = cmdline.trim();
  if (words === "--" || words.startsWith("-- ")) return { params: "", args: words.slice(2).trim() };
  const i = words.indexOf(" -- ");
  if (i < 0) return { params: words, args: "" };
  return { params: words.slice(0, i).trim(), args: words.slice(i + 4).trim() };
}

/**
 * Quotes an argument for the guest's command-line parser (library cmdline): double quotes group
 * words, and inside them `\"` and `\\` stand for a quote and a backslash.
 */
export function quoteArg(arg: string): string {
  if (arg !== "" && !/[\s"\\]/.test(arg)) return arg;
  return `"${arg.replace(/[\\"]/g, (c) => "\\" + c)}"`;
}

export function composeCmdline(base: string, extraParams: string[], args: string[] | undefined): string {
  const { params, args: baseArgs } = splitCmdline(base);
  const allParams = [params, ...extraParams].filter((p) => p.length > 0).join(" ");
  const argText = args === undefined ? baseArgs : args.map(quoteArg).join(" ");
  return argText ? `${allParams}${allParams ? " " : ""}-- ${argText}` : allParams;
}
