#ifndef HOST_TIME_TIME_H
#define HOST_TIME_TIME_H
#include <stdint.h>
uint64_t time_now_ns(void);
static inline uint64_t time_tsc_khz(void) { return 1; }
#endif
