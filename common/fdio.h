/* SPDX-License-Identifier: Apache-2.0 */
/* Whole reads and writes on a file descriptor: the loops over short transfers and EINTR that
 * every caller of read(2) and write(2) needs, written once. */
#ifndef COF_FDIO_H
#define COF_FDIO_H

#include <stddef.h>

/* Writes all n bytes. 0, or -1 with errno set (a write that took nothing is EIO). */
int cof_write_all(int fd, const void *p, size_t n);
/* Reads until n bytes are in or the file ends; *out_n says how many. 0, or -1 with errno set
 * (*out_n then counts what was read before the failure). */
int cof_read_upto(int fd, void *p, size_t n, size_t *out_n);

#endif
