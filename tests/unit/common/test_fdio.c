/* SPDX-License-Identifier: Apache-2.0 */
/* cof_write_all / cof_read_upto over a pipe: a write larger than the pipe holds (short writes,
 * taken whole by a reader thread), a read that ends at end of file, reads of nothing, and the
 * failures (closed descriptors, a pipe with no reader) with errno set. */
#include "check.h"
#include "common/fdio.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG (1u << 20) /* larger than a pipe's 64 KiB: the writer sees short writes */

struct drain {
    int fd;
    uint8_t *buf;
    size_t got;
    int rc;
};

static void *drain_main(void *arg)
{
    struct drain *d = arg;
    d->rc = cof_read_upto(d->fd, d->buf, BIG + 10, &d->got);
    return NULL;
}

static void test_big_write_and_read_to_eof(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    uint8_t *src = malloc(BIG);
    struct drain d = {p[0], malloc(BIG + 10), 0, -2};
    CHECK(src != NULL && d.buf != NULL);
    for (size_t i = 0; i < BIG; i++)
        src[i] = (uint8_t)(i * 7 + i / 251);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, drain_main, &d) == 0);
    CHECK_EQ_INT(cof_write_all(p[1], src, BIG), 0);
    close(p[1]);
    pthread_join(th, NULL);
    CHECK_EQ_INT(d.rc, 0);
    CHECK_EQ_INT(d.got, BIG); /* the file ended before the BIG + 10 asked for */
    CHECK_MEM(d.buf, src, BIG);
    close(p[0]);
    free(src);
    free(d.buf);
}

static void test_nothing_and_failures(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    uint8_t b[4] = {0};
    size_t got = 99;
    CHECK_EQ_INT(cof_write_all(p[1], b, 0), 0);
    CHECK_EQ_INT(cof_read_upto(p[0], b, 0, &got), 0);
    CHECK_EQ_INT(got, 0);
    CHECK_EQ_INT(cof_write_all(p[1], "abc", 3), 0);
    close(p[1]);
    CHECK_EQ_INT(cof_read_upto(p[0], b, 2, &got), 0); /* stops at n, the rest stays */
    CHECK_EQ_INT(got, 2);
    CHECK_MEM(b, "ab", 2);
    CHECK_EQ_INT(cof_read_upto(p[0], b, 4, &got), 0);
    CHECK_EQ_INT(got, 1);
    CHECK_EQ_INT(b[0], 'c');
    close(p[0]);

    errno = 0;
    CHECK_EQ_INT(cof_read_upto(p[0], b, 4, &got), -1); /* closed */
    CHECK_EQ_INT(errno, EBADF);
    CHECK_EQ_INT(got, 0);
    errno = 0;
    CHECK_EQ_INT(cof_write_all(p[1], b, 4), -1);
    CHECK_EQ_INT(errno, EBADF);

    CHECK(pipe(p) == 0);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    CHECK_EQ_INT(cof_write_all(p[1], b, 4), -1); /* nobody reads */
    CHECK_EQ_INT(errno, EPIPE);
    close(p[1]);
}

int main(void)
{
    test_big_write_and_read_to_eof();
    test_nothing_and_failures();
    return check_finish();
}
