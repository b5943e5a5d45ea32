/* Guest tests of boot: init ordering and the boot timestamps. */
#include <stdint.h>
#include <boot/boot.h>
#include <boot/init.h>
#include <test/test.h>

static char order[8];
static int norder;

static void mark(char c)
{
	if (norder < (int)sizeof(order) - 1)
		order[norder++] = c;
}

/* Registered out of order on purpose; "99" sorts after "100" by name, not by number. */
static int t_late_1(void) { mark('F'); return 0; }
static int t_lib_100(void) { mark('D'); return 0; }
static int t_early_500(void) { mark('B'); return 0; }
static int t_lib_99(void) { mark('C'); return 0; }
static int t_early_5(void) { mark('A'); return 0; }
static int t_sys_0(void) { mark('E'); return 0; }
KILN_INIT(late, 1, t_late_1);
KILN_INIT(lib, 100, t_lib_100);
KILN_INIT(early, 500, t_early_500);
KILN_INIT(lib, 99, t_lib_99);
KILN_INIT(early, 5, t_early_5);
KILN_INIT(sys, 0, t_sys_0);

KTEST(boot, init_order_by_class_then_priority)
{
	KT_ASSERT_STREQ(order, "ABCDEF");
}

KTEST(boot, tsc_stamps)
{
	KT_ASSERT(kiln_boot_entry_tsc != 0);
	KT_ASSERT(kiln_boot_main_tsc > kiln_boot_entry_tsc);
}
