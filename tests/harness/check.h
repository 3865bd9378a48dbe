/* SPDX-License-Identifier: Apache-2.0 */
/* Tiny unit-test harness: CHECK* macros count failures and keep going; main() returns
 * check_finish(). Output ends with the plain line "N passed, N failed". A binary that ran no
 * check at all fails: a test whose cases were all skipped, or whose table is empty, must not
 * pass silently. */
#ifndef CHECK_H
#define CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_pass_count;
static int check_fail_count;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_pass_count++;                                                                    \
        } else {                                                                                   \
            check_fail_count++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ == check_b_) {                                                                \
            check_pass_count++;                                                                    \
        } else {                                                                                   \
            check_fail_count++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK_EQ_INT failed: %s == %lld, %s == %lld\n", __FILE__,      \
                    __LINE__, #a, check_a_, #b, check_b_);                                         \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        if (check_a_ != NULL && check_b_ != NULL && strcmp(check_a_, check_b_) == 0) {             \
            check_pass_count++;                                                                    \
        } else {                                                                                   \
            check_fail_count++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK_EQ_STR failed: %s == \"%s\", %s == \"%s\"\n", __FILE__,  \
                    __LINE__, #a, check_a_ ? check_a_ : "(null)", #b,                              \
                    check_b_ ? check_b_ : "(null)");                                               \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline int check_finish(void)
{
    printf("%d passed, %d failed\n", check_pass_count, check_fail_count);
    if (check_pass_count + check_fail_count == 0) {
        fprintf(stderr, "FAIL: this test binary ran no checks (empty table or every case "
                        "skipped?)\n");
        return 1;
    }
    return check_fail_count == 0 ? 0 : 1;
}

#endif
