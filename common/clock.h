//  clock: the two clocks the services use, in milliseconds.
#ifndef CLOCK_H_INCLUDED
#define CLOCK_H_INCLUDED

#include <stdint.h>

//  Wall-clock time in milliseconds since the epoch (for stored expiries).
int64_t clock_now_ms(void);
//  Monotonic time in milliseconds (for timeouts and durations).
int64_t clock_mono_ms(void);

#endif
