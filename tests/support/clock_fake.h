//  clock_fake: clocks a test sets, in place of common/clock.c's (test code only: tests/support/).
//
//  A test binary linked with -Wl,--wrap=clock_now_ms,--wrap=clock_mono_ms (the Makefile links authsvc/*_test.c
//  so) reads both clocks here, in its own code and in the modules it links: time moves only when the test
//  moves it, so timeouts, leases and Retry-After pauses are tested in microseconds, without sleeping.
#ifndef CLOCK_FAKE_H_INCLUDED
#define CLOCK_FAKE_H_INCLUDED

#include <stdint.h>

//  Set the wall clock (ms since the epoch) and the monotonic clock (ms).
void clock_fake_set(int64_t now_ms, int64_t mono_ms);
//  Move both clocks ms forward.
void clock_fake_advance(int64_t ms);

#endif
