/* net.* parameters from the kernel command line (kiln run fills them in). */
#include <errno.h>
#include <string.h>
#include <cmdline/cmdline.h>
#include <net/stack.h>

int net_config_from_cmdline(struct net_config *c, const char **why, const char **bad_key)
{
	for (int i = 0; i < cmdline_param_count(); i++) {
		const char *k = cmdline_param_key(i);
		if (strncmp(k, "net.", 4) != 0) continue;
		int r = net_config_param(c, k + 4, cmdline_param_value(i), why);
		if (r < 0) {
			*bad_key = k;
			return r;
		}
	}
	return 0;
}
