/* nolibc <assert.h>: a failed assertion panics (message, backtrace, exit 255).
 * Deliberately without an include guard: C re-evaluates NDEBUG on every inclusion. */
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
_Noreturn void __assert_fail(const char *expr, const char *file, unsigned line, const char *func);
#define assert(e) ((e) ? (void)0 : __assert_fail(#e, __FILE__, __LINE__, __func__))
#endif
#ifndef static_assert
#define static_assert _Static_assert
#endif
