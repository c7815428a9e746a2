//  clock_fake: see clock_fake.h. Built into the tests' library only (tests/support/*.c); it stands in for
//  common/clock.c only in binaries linked with --wrap=clock_now_ms,--wrap=clock_mono_ms, never in a service.
#include "tests/support/clock_fake.h"

//  The linker sends every call of the two clocks here.
int64_t __wrap_clock_now_ms(void);
int64_t __wrap_clock_mono_ms(void);

//  Until a test sets them: a fixed day in 2027 and an arbitrary monotonic origin.
static int64_t s_now = 1800000000000, s_mono = 1000000;

void clock_fake_set(int64_t now_ms, int64_t mono_ms)
{
    s_now = now_ms;
    s_mono = mono_ms;
}

void clock_fake_advance(int64_t ms)
{
    s_now += ms;
    s_mono += ms;
}

int64_t __wrap_clock_now_ms(void)
{
    return s_now;
}

int64_t __wrap_clock_mono_ms(void)
{
    return s_mono;
}
