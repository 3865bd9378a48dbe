/* SPDX-License-Identifier: Apache-2.0 */
/* The wall clock, in one place: code that decides on time takes it as a parameter, and only
 * the outermost callers (request entry, admin commands) read it here. */
#ifndef COF_CLOCK_H
#define COF_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t cof_now_ms(void);

#endif
