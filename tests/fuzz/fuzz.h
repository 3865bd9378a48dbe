/* SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target shares: libFuzzer's entry point, and REQUIRE, which aborts (a crash
 * libFuzzer reports, with its input) when an invariant of the code under test fails. */
#ifndef COF_FUZZ_H
#define COF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
