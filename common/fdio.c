/* SPDX-License-Identifier: Apache-2.0 */
#include "common/fdio.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

int cof_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO;
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int cof_read_upto(int fd, void *p, size_t n, size_t *out_n)
{
    uint8_t *b = p;
    size_t got = 0;
    int rc = 0;
    while (got < n) {
        ssize_t k = read(fd, b + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = -1;
            break;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    *out_n = got;
    return rc;
}
