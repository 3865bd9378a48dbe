/* SPDX-License-Identifier: Apache-2.0 */
/* Request addressing (virtual-host vs path style, the decoded bucket and key) and the matching of
 * one operation-table row against an addressed request. Pure string work; no I/O. */
#include "s3/route.h"

#include <string.h>

void srv_route_cleanup(struct srv_route *r)
{
    if (r == NULL)
        return;
    free(r->bucket);
    free(r->key);
    free(r->ls_stage);
    memset(r, 0, sizeof(*r));
}

unsigned srv_route_method(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } tab[] = {{"GET", SRV_M_GET},   {"HEAD", SRV_M_HEAD},     {"PUT", SRV_M_PUT},
               {"POST", SRV_M_POST}, {"DELETE", SRV_M_DELETE}, {"OPTIONS", SRV_M_OPTIONS}};
    if (m == NULL)
        return SRV_M_OTHER;
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        if (strcmp(m, tab[i].name) == 0)
            return tab[i].bit;
    }
    return SRV_M_OTHER;
}

/* Decodes one path piece and insists on UTF-8: AWS answers InvalidURI ("Couldn't parse the
 * specified URI") for keys that are not UTF-8, and such a key could never be listed in XML. */
static cof_err decode_utf8(const char *raw, size_t n, char **out, size_t *out_len)
{
    cof_err err = srv_uri_decode_path(raw, n, out, out_len);
    if (err == COF_OK && !srv_utf8_valid(*out, *out_len)) {
        free(*out);
        *out = NULL;
        err = COF_ERR_INVALID;
    }
    return err;
}

/* Bucket named by the Host header, or NULL for path style. S3_VIRTUAL_HOSTNAME_REGEX in
 * LocalStack is "(?P<bucket>.*).s3.(region)?.*", whose greedy ".*" takes everything before the
 * LAST ".s3." -- which is also what AWS needs for dotted names (my.s3.data.s3.amazonaws.com).
 * "<bucket>.localhost" is virtual-host too. IP literals, "localhost", "s3.<domain>" are not. */
static cof_err host_bucket(const char *host, char **out)
{
    char h[256];
    size_t n = 0;

    *out = NULL;
    if (host == NULL || host[0] == '[') /* absent, or an IPv6 literal */
        return COF_OK;
    while (host[n] != '\0' && host[n] != ':') {
        if (n == sizeof(h) - 1)
            return COF_OK; /* longer than any DNS name: cannot name a bucket */
        unsigned char c = (unsigned char)host[n];
        h[n] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        n++;
    }
    h[n] = '\0';
    if (n > 0 && h[n - 1] == '.') /* fully qualified "b.s3.amazonaws.com." */
        h[--n] = '\0';

    size_t blen = 0;
    for (size_t i = n; i-- > 1;) {
        if (i + 4 <= n && memcmp(h + i, ".s3.", 4) == 0) {
            blen = i;
            break;
        }
    }
    static const char lh[] = ".localhost";
    size_t lhn = sizeof(lh) - 1;
    if (blen == 0 && n > lhn && memcmp(h + n - lhn, lh, lhn) == 0)
        blen = n - lhn;
    if (blen == 0)
        return COF_OK;
    if (!srv_utf8_valid(h, blen))
        return COF_ERR_INVALID;
    char *b = malloc(blen + 1);
    if (b == NULL)
        return COF_ERR_NOMEM;
    memcpy(b, h, blen);
    b[blen] = '\0';
    *out = b;
    return COF_OK;
}

/* S3 addressing; fills r (the caller frees it on any outcome). */
static cof_err s3_address(const char *host, const char *raw_path, struct srv_route *r)
{
    const char *key_raw = NULL; /* text after the bucket's '/', NULL for bucket level */
    cof_err err = host_bucket(host, &r->bucket);
    if (err != COF_OK)
        return err;
    if (r->bucket != NULL) {
        r->virtual_host = true;
        key_raw = raw_path + 1;
    } else if (raw_path[1] != '\0') {
        const char *seg = raw_path + 1;
        const char *slash = strchr(seg, '/');
        size_t seglen = slash != NULL ? (size_t)(slash - seg) : strlen(seg);
        size_t blen = 0;
        if (seglen == 0) /* "//x": no bucket name at all */
            return COF_ERR_INVALID;
        err = decode_utf8(seg, seglen, &r->bucket, &blen);
        if (err != COF_OK)
            return err;
        key_raw = slash != NULL ? slash + 1 : NULL;
    }
    if (key_raw != NULL && key_raw[0] != '\0') {
        size_t klen = 0;
        err = decode_utf8(key_raw, strlen(key_raw), &r->key, &klen);
        if (err != COF_OK)
            return err;
        if (klen > SRV_MAX_KEY_LEN)
            return COF_ERR_KEY_TOO_LONG;
    }
    if (r->bucket == NULL)
        r->scope = SRV_SCOPE_SERVICE;
    else
        r->scope = r->key == NULL ? SRV_SCOPE_BUCKET : SRV_SCOPE_OBJECT;
    return COF_OK;
}

/* JSON (X-Amz-Target) and Query (Action=) protocol services are addressed at "/" only. */
static void service_protocol(const struct srv_route_signals *sig, const struct srv_query *q,
                             struct srv_route *r)
{
    const char *action = srv_query_get(q, "Action");
    bool post = r->method == SRV_M_POST;
    if (r->scope != SRV_SCOPE_SERVICE || sig == NULL)
        return;
    if (post && sig->target != NULL) {
        r->target = sig->target;
    } else if ((post || r->method == SRV_M_GET) && action != NULL) {
        r->target = action;
        r->query_action = true;
    } else if (post &&
               (sig->form_body || (sig->scope_service != NULL && sig->scope_service[0] != '\0' &&
                                   strcmp(sig->scope_service, "s3") != 0))) {
        r->query_action = true;
        r->action_in_body = true;
    } else {
        return;
    }
    r->scope = SRV_SCOPE_TARGET;
}

cof_err srv_route_parse(const char *method, const char *host, const char *raw_path,
                        const struct srv_query *q, bool has_copy_source,
                        const struct srv_route_signals *sig, bool internal, struct srv_route *out)
{
    cof_err err = COF_OK;
    struct srv_route r;

    memset(&r, 0, sizeof(r));
    memset(out, 0, sizeof(*out));
    if (raw_path == NULL || raw_path[0] != '/')
        return COF_ERR_INVALID;
    r.method = srv_route_method(method);
    r.has_copy_source = has_copy_source;
    r.raw_path = raw_path;
    r.query = q;
    if (internal) {
        r.scope = SRV_SCOPE_INTERNAL;
    } else {
        err = s3_address(host, raw_path, &r);
        service_protocol(sig, q, &r);
    }
    if (err != COF_OK) {
        srv_route_cleanup(&r);
        return err;
    }
    *out = r;
    return COF_OK;
}

bool srv_route_internal_path(const struct srv_op_match *m, const char *raw_path)
{
    if ((m->scopes & SRV_SCOPE_INTERNAL) == 0 || m->sub == NULL || raw_path == NULL)
        return false;
    if ((m->cond & SRV_COND_PATH_PREFIX) != 0)
        return strncmp(raw_path, m->sub, strlen(m->sub)) == 0;
    return strcmp(raw_path, m->sub) == 0;
}

bool srv_route_match(const struct srv_op_match *m, const struct srv_route *r)
{
    if ((m->scopes & (unsigned)r->scope) == 0 || (m->methods & r->method) == 0)
        return false;
    if (r->scope == SRV_SCOPE_INTERNAL) {
        if (m->sub != NULL && !srv_route_internal_path(m, r->raw_path))
            return false;
    } else if (r->scope == SRV_SCOPE_TARGET) {
        if (((m->cond & SRV_COND_ACTION) != 0) != r->query_action)
            return false;
        if ((m->cond & SRV_COND_ACTION_IN_BODY) != 0 && !r->action_in_body)
            return false;
        bool prefix = (m->cond & SRV_COND_TARGET_PREFIX) != 0;
        if (m->sub != NULL &&
            (r->target == NULL || (prefix ? strncmp(m->sub, r->target, strlen(m->sub))
                                          : strcmp(m->sub, r->target)) != 0))
            return false;
    } else if (m->sub != NULL && !srv_query_has(r->query, m->sub)) {
        return false;
    }
    if ((m->cond & SRV_COND_COPY_SOURCE) != 0 && !r->has_copy_source)
        return false;
    if ((m->cond & SRV_COND_PART_NUMBER) != 0 && !srv_query_has(r->query, "partNumber"))
        return false;
    if ((m->cond & SRV_COND_LIST_V2) != 0) {
        const char *lt = srv_query_get(r->query, "list-type");
        if (lt == NULL || strcmp(lt, "2") != 0)
            return false;
    }
    return true;
}

cof_err srv_route_stage(const struct srv_op_match *m, struct srv_route *r)
{
    const char *st = r->raw_path + strlen(m->sub);
    size_t len = 0;
    cof_err err = decode_utf8(st, strlen(st), &r->ls_stage, &len);
    for (size_t i = 0; err == COF_OK && i < len; i++) {
        char c = r->ls_stage[i];
        if (c >= 'A' && c <= 'Z')
            r->ls_stage[i] = (char)(c + ('a' - 'A'));
    }
    return err;
}

static bool is_ipv4(const char *s)
{
    int groups = 0;
    while (*s != '\0') {
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            s++;
            digits++;
        }
        if (digits == 0 || digits > 3)
            return false;
        groups++;
        if (*s == '\0')
            break;
        if (*s != '.')
            return false;
        s++;
        if (*s == '\0')
            return false;
    }
    return groups == 4;
}

static bool starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

cof_err srv_bucket_name_check(const char *name)
{
    static const char *const bad_prefix[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const bad_suffix[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3",
                                             "--table-s3"};
    if (name == NULL)
        COF_BUG("srv_bucket_name_check: NULL name");
    size_t n = strnlen(name, 64);
    if (n < 3 || n > 63)
        return COF_ERR_BAD_BUCKET_NAME;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '-')
            return COF_ERR_BAD_BUCKET_NAME;
        if ((i == 0 || i == n - 1) && !alnum)
            return COF_ERR_BAD_BUCKET_NAME;
        if (c == '.' && name[i + 1] == '.')
            return COF_ERR_BAD_BUCKET_NAME;
    }
    if (is_ipv4(name))
        return COF_ERR_BAD_BUCKET_NAME;
    for (size_t i = 0; i < sizeof(bad_prefix) / sizeof(bad_prefix[0]); i++) {
        if (starts_with(name, bad_prefix[i]))
            return COF_ERR_BAD_BUCKET_NAME;
    }
    for (size_t i = 0; i < sizeof(bad_suffix) / sizeof(bad_suffix[0]); i++) {
        if (ends_with(name, n, bad_suffix[i]))
            return COF_ERR_BAD_BUCKET_NAME;
    }
    return COF_OK;
}
