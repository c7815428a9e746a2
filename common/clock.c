//  clock: see clock.h.
#include "common/clock.h"

#include <time.h>

static int64_t s_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_ms(void)
{
    return s_ms(CLOCK_REALTIME);
}

int64_t clock_mono_ms(void)
{
    return s_ms(CLOCK_MONOTONIC);
}
