/* SPDX-License-Identifier: Apache-2.0 */
/* The one table from cof_err to HTTP status + S3 error <Code> + generic <Message>. */
#ifndef SRV_S3ERR_H
#define SRV_S3ERR_H

#include "common/err.h"

struct srv_s3err {
    unsigned status;
    const char *code;    /* S3 <Code> */
    const char *message; /* generic <Message> */
};

/* Never NULL: unknown codes map to 500 InternalError. */
const struct srv_s3err *srv_s3err_lookup(cof_err e);

#endif
