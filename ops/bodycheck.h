/* SPDX-License-Identifier: Apache-2.0 */
/* Checks on buffered request bodies. */
#ifndef OPS_BODYCHECK_H
#define OPS_BODYCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"

/* Content-MD5 of a buffered body, when the client sent one: COF_ERR_INVALID_DIGEST (not base64
 * of 16 bytes), COF_ERR_BAD_DIGEST (mismatch). */
COF_MUST_CHECK cof_err ops_check_body_md5(struct srv_req *req);

#endif
