/* SPDX-License-Identifier: Apache-2.0 */
/* cof_buf: cap enforcement, growth, printf, steal. */
#include "check.h"
#include "common/buf.h"
#include "common/err.h"

#include <stdlib.h>

int main(void)
{
    struct cof_buf b;
    cof_buf_init(&b, 10);
    CHECK_EQ_INT(cof_buf_puts(&b, "hello"), COF_OK);
    CHECK_EQ_INT(cof_buf_puts(&b, "world"), COF_OK);
    CHECK_EQ_INT(b.len, 10);
    CHECK_EQ_INT(cof_buf_puts(&b, "!"), COF_ERR_TOO_LARGE);
    CHECK_EQ_STR(b.data, "helloworld");
    cof_buf_reset(&b);
    CHECK_EQ_INT(cof_buf_printf(&b, "%d-%s", 42, "x"), COF_OK);
    CHECK_EQ_STR(b.data, "42-x");
    CHECK_EQ_INT(cof_buf_printf(&b, "%s", "0123456789"), COF_ERR_TOO_LARGE);
    CHECK_EQ_STR(b.data, "42-x");
    char *s = NULL;
    CHECK_EQ_INT(cof_buf_steal(&b, &s), COF_OK);
    CHECK_EQ_STR(s, "42-x");
    CHECK(b.data == NULL && b.len == 0);
    free(s);
    struct cof_buf big;
    cof_buf_init(&big, 1 << 20);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ_INT(cof_buf_append(&big, "0123456789", 10), COF_OK);
    CHECK_EQ_INT(big.len, 10000);
    cof_buf_cleanup(&big);
    cof_buf_cleanup(NULL);
    CHECK_EQ_STR(cof_err_name(COF_ERR_NO_BUCKET), "COF_ERR_NO_BUCKET");
    CHECK_EQ_STR(cof_err_name((cof_err)9999), "COF_ERR_UNKNOWN");
    return check_finish();
}
