/* The kernel command line: library parameters, then `--`, then the app's arguments.
 *
 *   boot.stats=1 net.ip="10.0.0.2" -- first "second arg"
 *
 * Words are separated by blanks; double quotes group words and are removed (inside quotes,
 * \" and \\ are a quote and a backslash). Before the first unquoted `--` every word is a
 * parameter `key=value` (split at the first '='; a word without '=' has the value ""); a key
 * given twice keeps the last value. After it, every word is an argument, except unquoted
 * `virtio_mmio.device=...` words, which QEMU microvm appends to the end of the line: those
 * are parameters wherever they stand.
 * No allocation: the text is copied into a static buffer of CONFIG_CMDLINE_MAX_LEN bytes, with
 * at most CONFIG_CMDLINE_MAX_PARAMS parameters and CONFIG_CMDLINE_MAX_ARGS arguments; anything
 * beyond is dropped with one `cmdline: warning: ...` console line, never overflowing. */
#ifndef KILN_CMDLINE_CMDLINE_H
#define KILN_CMDLINE_CMDLINE_H

/* Parses cmdline (NULL = empty), replacing any earlier parse. boot calls it before main. */
void cmdline_init(const char *cmdline);

/* The string given to the last cmdline_init (not a copy; "" before the first). */
const char *cmdline_raw(void);

/* The value of parameter "lib.key", or NULL if it was not given. */
const char *cmdline_param(const char *key);

/* argv[0] is "app"; argv[argc] is NULL. The strings are writable. */
int cmdline_argc(void);
char **cmdline_argv(void);

/* Every parameter, in command-line order (to report unknown ones, for instance). */
int cmdline_param_count(void);
const char *cmdline_param_key(int i);
const char *cmdline_param_value(int i);

#endif
