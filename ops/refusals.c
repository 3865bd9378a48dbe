/* SPDX-License-Identifier: Apache-2.0 */
/* The answers for requests that name no operation coffer runs: a method the resource does not
 * take, or a real S3 operation not implemented yet. */
#include "ops/handlers.h"

cof_err ops_method_not_allowed(struct srv_req *req)
{
    (void)req;
    return COF_ERR_METHOD_NOT_ALLOWED;
}

cof_err ops_not_implemented(struct srv_req *req)
{
    (void)req;
    return COF_ERR_NOT_IMPLEMENTED;
}
