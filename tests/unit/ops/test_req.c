/* SPDX-License-Identifier: Apache-2.0 */
/* ops/req: how a parser's problem becomes the request's failure (srv_fail_problem): a problem
 * with a message or elements is recorded, a bare code is only returned, and the first failure
 * recorded stays. */
#include "check.h"
#include "ops/req.h"
#include "s3/s3err.h"

#include <string.h>

static void test_fail_problem(void)
{
    struct srv_req req;
    struct srv_problem p;

    /* a bare code (MalformedXML, NOMEM): returned, not recorded */
    memset(&req, 0, sizeof(req));
    srv_problem_init(&p);
    srv_problem_finish(&p, COF_ERR_MALFORMED_XML);
    CHECK_EQ_INT(srv_fail_problem(&req, &p), COF_ERR_MALFORMED_XML);
    CHECK_EQ_INT(req.fail.code, COF_OK);

    /* message and two elements, copied (text[] may go away) */
    srv_problem_init(&p);
    srv_problem_arg(&p, COF_ERR_INVALID_ARGUMENT, srv_problem_keep(&p, "m%d", 1), "x-amz-h",
                    srv_problem_keep(&p, "%s", "v"));
    CHECK_EQ_INT(srv_fail_problem(&req, &p), COF_ERR_INVALID_ARGUMENT);
    memset(&p, 0, sizeof(p));
    CHECK_EQ_INT(req.fail.code, COF_ERR_INVALID_ARGUMENT);
    CHECK_EQ_STR(req.fail.message, "m1");
    CHECK_EQ_STR(req.fail.name1, "ArgumentName");
    CHECK_EQ_STR(req.fail.value1, "x-amz-h");
    CHECK_EQ_STR(req.fail.name2, "ArgumentValue");
    CHECK_EQ_STR(req.fail.value2, "v");

    /* a later problem does not replace the first failure */
    srv_problem_init(&p);
    srv_problem_set(&p, COF_ERR_BAD_REQUEST, "later");
    CHECK_EQ_INT(srv_fail_problem(&req, &p), COF_ERR_BAD_REQUEST);
    CHECK_EQ_STR(req.fail.message, "m1");
    srv_failure_cleanup(&req.fail);

    /* an element without a message is recorded (the code's default message) */
    srv_problem_init(&p);
    srv_problem_set(&p, COF_ERR_INVALID_TAG, NULL);
    srv_problem_elem(&p, "TagKey", "k");
    CHECK_EQ_INT(srv_fail_problem(&req, &p), COF_ERR_INVALID_TAG);
    CHECK_EQ_INT(req.fail.code, COF_ERR_INVALID_TAG);
    CHECK(req.fail.message == NULL);
    CHECK_EQ_STR(req.fail.name1, "TagKey");
    CHECK_EQ_STR(req.fail.value1, "k");
    CHECK(req.fail.name2 == NULL);
    srv_failure_cleanup(&req.fail);
}

int main(void)
{
    test_fail_problem();
    return check_finish();
}
