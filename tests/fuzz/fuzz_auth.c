/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Authorization header and presigned-query credential parsing (server/auth.c).
 * Input: first line = Authorization header (empty = none), rest = raw query string.
 * Invariant: on COF_OK the parsed fields are NUL-terminated within their buffers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "s3/auth.h"
#include "s3/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *nl = strchr(s, '\n');
    const char *query = "";
    if (nl != NULL) {
        *nl = '\0';
        query = nl + 1;
    }
    struct srv_query q;
    if (srv_query_parse(query, &q) == COF_OK) {
        struct srv_auth a;
        if (srv_auth_parse(s[0] != '\0' ? s : NULL, &q, &a) == COF_OK) {
            if (memchr(a.access_key, '\0', sizeof(a.access_key)) == NULL ||
                memchr(a.region, '\0', sizeof(a.region)) == NULL ||
                memchr(a.date, '\0', sizeof(a.date)) == NULL ||
                memchr(a.service, '\0', sizeof(a.service)) == NULL)
                abort();
        }
        srv_query_cleanup(&q);
    }
    free(s);
    return 0;
}
