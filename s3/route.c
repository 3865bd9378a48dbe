/* SPDX-License-Identifier: Apache-2.0 */
/* Request routing: LocalStack internal endpoints, virtual-host vs path-style addressing, and the
 * (method, subresource) -> operation table. Pure string work; no I/O and no storage access. */
#include "s3/route.h"

#include <string.h>

enum method { M_GET, M_HEAD, M_PUT, M_POST, M_DELETE, M_OPTIONS, M_OTHER };

static const char *const op_names[SRV_OP__COUNT] = {
    [SRV_OP_NONE] = "None",
    [SRV_OP_LIST_BUCKETS] = "ListBuckets",
    [SRV_OP_CREATE_BUCKET] = "CreateBucket",
    [SRV_OP_HEAD_BUCKET] = "HeadBucket",
    [SRV_OP_DELETE_BUCKET] = "DeleteBucket",
    [SRV_OP_GET_BUCKET_LOCATION] = "GetBucketLocation",
    [SRV_OP_PUT_BUCKET_ENCRYPTION] = "PutBucketEncryption",
    [SRV_OP_GET_BUCKET_ENCRYPTION] = "GetBucketEncryption",
    [SRV_OP_DELETE_BUCKET_ENCRYPTION] = "DeleteBucketEncryption",
    [SRV_OP_LIST_OBJECTS] = "ListObjects",
    [SRV_OP_LIST_OBJECTS_V2] = "ListObjectsV2",
    [SRV_OP_DELETE_OBJECTS] = "DeleteObjects",
    [SRV_OP_PUT_OBJECT] = "PutObject",
    [SRV_OP_COPY_OBJECT] = "CopyObject",
    [SRV_OP_GET_OBJECT] = "GetObject",
    [SRV_OP_HEAD_OBJECT] = "HeadObject",
    [SRV_OP_DELETE_OBJECT] = "DeleteObject",
    [SRV_OP_LS_HEALTH] = "LocalstackHealth",
    [SRV_OP_LS_INFO] = "LocalstackInfo",
    [SRV_OP_LS_INIT] = "LocalstackInit",
    [SRV_OP_LS_RESET] = "LocalstackReset",
    [SRV_OP_NOT_IMPLEMENTED] = "NotImplemented",
    [SRV_OP_METHOD_NOT_ALLOWED] = "MethodNotAllowed",
    [SRV_OP_CREATE_MULTIPART] = "CreateMultipartUpload",
    [SRV_OP_UPLOAD_PART] = "UploadPart",
    [SRV_OP_COMPLETE_MULTIPART] = "CompleteMultipartUpload",
    [SRV_OP_ABORT_MULTIPART] = "AbortMultipartUpload",
    [SRV_OP_LIST_PARTS] = "ListParts",
    [SRV_OP_LIST_MULTIPART_UPLOADS] = "ListMultipartUploads",
    [SRV_OP_UPLOAD_PART_COPY] = "UploadPartCopy",
    [SRV_OP_GET_OBJECT_ATTRIBUTES] = "GetObjectAttributes",
    [SRV_OP_PUT_BUCKET_VERSIONING] = "PutBucketVersioning",
    [SRV_OP_GET_BUCKET_VERSIONING] = "GetBucketVersioning",
    [SRV_OP_LIST_OBJECT_VERSIONS] = "ListObjectVersions",
    [SRV_OP_PUT_OBJECT_TAGGING] = "PutObjectTagging",
    [SRV_OP_GET_OBJECT_TAGGING] = "GetObjectTagging",
    [SRV_OP_DELETE_OBJECT_TAGGING] = "DeleteObjectTagging",
    [SRV_OP_PUT_BUCKET_TAGGING] = "PutBucketTagging",
    [SRV_OP_GET_BUCKET_TAGGING] = "GetBucketTagging",
    [SRV_OP_DELETE_BUCKET_TAGGING] = "DeleteBucketTagging",
    [SRV_OP_PUT_BUCKET_POLICY] = "PutBucketPolicy",
    [SRV_OP_GET_BUCKET_POLICY] = "GetBucketPolicy",
    [SRV_OP_DELETE_BUCKET_POLICY] = "DeleteBucketPolicy",
    [SRV_OP_GET_BUCKET_POLICY_STATUS] = "GetBucketPolicyStatus",
    [SRV_OP_PUT_BUCKET_CORS] = "PutBucketCors",
    [SRV_OP_GET_BUCKET_CORS] = "GetBucketCors",
    [SRV_OP_DELETE_BUCKET_CORS] = "DeleteBucketCors",
    [SRV_OP_CORS_PREFLIGHT] = "PreflightRequest",
    [SRV_OP_LS_PREFLIGHT] = "LocalstackPreflight",
    [SRV_OP_POST_OBJECT] = "PostObject",
};

/* Bucket-level subresources of real S3 operations coffer does not implement yet. One per line
 * (clang-format would pack the list) so each implemented operation removes exactly one line. */
/* clang-format off */
static const char *const bucket_unimpl[] = {
    "acl",
    "lifecycle",
    "website",
    "logging",
    "notification",
    "replication",
    "object-lock",
    "ownershipControls",
    "publicAccessBlock",
    "accelerate",
    "requestPayment",
    "intelligent-tiering",
    "inventory",
    "metrics",
    "analytics",
    "session",
    "metadataTable",
    "metadataConfiguration",
};
/* clang-format on */

/* Object-level subresources (ACL, object lock, ...). partNumber counts for every method: GET/HEAD
 * with partNumber read one part of a multipart object. */
static const char *const object_unimpl[] = {
    "acl", "retention", "legal-hold", "restore", "select", "torrent", "renameObject",
};

const char *srv_op_name(enum srv_op op)
{
    if ((unsigned)op >= SRV_OP__COUNT)
        return "Unknown";
    return op_names[op];
}

void srv_route_cleanup(struct srv_route *r)
{
    if (r == NULL)
        return;
    free(r->bucket);
    free(r->key);
    free(r->ls_stage);
    memset(r, 0, sizeof(*r));
    r->op = SRV_OP_NONE;
}

static enum method parse_method(const char *m)
{
    static const struct {
        const char *name;
        enum method m;
    } tab[] = {{"GET", M_GET},   {"HEAD", M_HEAD},     {"PUT", M_PUT},
               {"POST", M_POST}, {"DELETE", M_DELETE}, {"OPTIONS", M_OPTIONS}};
    if (m == NULL)
        return M_OTHER;
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        if (strcmp(m, tab[i].name) == 0)
            return tab[i].m;
    }
    return M_OTHER;
}

static bool has_any(const struct srv_query *q, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (srv_query_has(q, names[i]))
            return true;
    }
    return false;
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

/* LocalStack's own endpoints (services/internal.py), matched on the raw path before any S3
 * routing and whatever the Host. Returns false when the path is not one of them. HEAD is
 * accepted wherever GET is, as werkzeug's router does; OPTIONS is a CORS preflight, which
 * LocalStack's gateway answers on every path. */
static bool localstack_route(enum method m, const char *path, struct srv_route *r, cof_err *err)
{
    static const char init_pfx[] = "/_localstack/init/";
    enum srv_op get_op = SRV_OP_NONE;  /* the endpoint's GET/HEAD operation, if any */
    enum srv_op post_op = SRV_OP_NONE; /* its POST operation, if any */
    bool stage = false;

    *err = COF_OK;
    if (strcmp(path, "/_localstack/health") == 0) {
        get_op = SRV_OP_LS_HEALTH;
    } else if (strcmp(path, "/_localstack/info") == 0) {
        get_op = SRV_OP_LS_INFO;
    } else if (strcmp(path, "/_localstack/init") == 0) {
        get_op = SRV_OP_LS_INIT;
    } else if (strncmp(path, init_pfx, sizeof(init_pfx) - 1) == 0) {
        get_op = SRV_OP_LS_INIT;
        stage = true;
    } else if (strcmp(path, "/_localstack/state/reset") == 0 ||
               strcmp(path, "/_localstack/state/s3/reset") == 0 ||
               strcmp(path, "/moto-api/reset") == 0) {
        post_op = SRV_OP_LS_RESET;
    } else {
        return false;
    }
    if (m == M_OPTIONS) {
        r->op = SRV_OP_LS_PREFLIGHT;
    } else if ((m == M_GET || m == M_HEAD) && get_op != SRV_OP_NONE) {
        r->op = get_op;
        if (stage) {
            const char *st = path + sizeof(init_pfx) - 1;
            size_t len = 0;
            *err = decode_utf8(st, strlen(st), &r->ls_stage, &len);
            for (size_t i = 0; *err == COF_OK && i < len; i++) {
                char c = r->ls_stage[i];
                if (c >= 'A' && c <= 'Z')
                    r->ls_stage[i] = (char)(c + ('a' - 'A'));
            }
        }
    } else if (m == M_POST && post_op != SRV_OP_NONE) {
        r->op = post_op;
    } else {
        r->op = SRV_OP_METHOD_NOT_ALLOWED;
    }
    return true;
}

/* GET/PUT/DELETE ?tagging on a bucket (bucket true) or an object. */
static enum srv_op tagging_op(enum method m, bool bucket)
{
    if (m == M_GET)
        return bucket ? SRV_OP_GET_BUCKET_TAGGING : SRV_OP_GET_OBJECT_TAGGING;
    if (m == M_PUT)
        return bucket ? SRV_OP_PUT_BUCKET_TAGGING : SRV_OP_PUT_OBJECT_TAGGING;
    if (m == M_DELETE)
        return bucket ? SRV_OP_DELETE_BUCKET_TAGGING : SRV_OP_DELETE_OBJECT_TAGGING;
    return SRV_OP_METHOD_NOT_ALLOWED;
}

static enum srv_op bucket_op(enum method m, const struct srv_query *q)
{
    if (srv_query_has(q, "tagging"))
        return tagging_op(m, true);
    if (srv_query_has(q, "encryption")) {
        if (m == M_GET)
            return SRV_OP_GET_BUCKET_ENCRYPTION;
        if (m == M_PUT)
            return SRV_OP_PUT_BUCKET_ENCRYPTION;
        if (m == M_DELETE)
            return SRV_OP_DELETE_BUCKET_ENCRYPTION;
        return SRV_OP_METHOD_NOT_ALLOWED;
    }
    if (srv_query_has(q, "policy")) {
        if (m == M_GET)
            return SRV_OP_GET_BUCKET_POLICY;
        if (m == M_PUT)
            return SRV_OP_PUT_BUCKET_POLICY;
        if (m == M_DELETE)
            return SRV_OP_DELETE_BUCKET_POLICY;
        return SRV_OP_METHOD_NOT_ALLOWED;
    }
    if (srv_query_has(q, "policyStatus"))
        return m == M_GET ? SRV_OP_GET_BUCKET_POLICY_STATUS : SRV_OP_METHOD_NOT_ALLOWED;
    if (srv_query_has(q, "cors")) {
        if (m == M_GET)
            return SRV_OP_GET_BUCKET_CORS;
        if (m == M_PUT)
            return SRV_OP_PUT_BUCKET_CORS;
        if (m == M_DELETE)
            return SRV_OP_DELETE_BUCKET_CORS;
        return SRV_OP_METHOD_NOT_ALLOWED;
    }
    if (srv_query_has(q, "location"))
        return m == M_GET ? SRV_OP_GET_BUCKET_LOCATION : SRV_OP_METHOD_NOT_ALLOWED;
    if (srv_query_has(q, "delete"))
        return m == M_POST ? SRV_OP_DELETE_OBJECTS : SRV_OP_METHOD_NOT_ALLOWED;
    if (srv_query_has(q, "uploads"))
        return m == M_GET ? SRV_OP_LIST_MULTIPART_UPLOADS : SRV_OP_METHOD_NOT_ALLOWED;
    if (srv_query_has(q, "versioning")) {
        if (m == M_GET)
            return SRV_OP_GET_BUCKET_VERSIONING;
        return m == M_PUT ? SRV_OP_PUT_BUCKET_VERSIONING : SRV_OP_METHOD_NOT_ALLOWED;
    }
    if (srv_query_has(q, "versions"))
        return m == M_GET ? SRV_OP_LIST_OBJECT_VERSIONS : SRV_OP_METHOD_NOT_ALLOWED;
    if (has_any(q, bucket_unimpl, sizeof(bucket_unimpl) / sizeof(bucket_unimpl[0])))
        return SRV_OP_NOT_IMPLEMENTED;
    switch (m) {
    case M_GET: {
        const char *lt = srv_query_get(q, "list-type");
        return lt != NULL && strcmp(lt, "2") == 0 ? SRV_OP_LIST_OBJECTS_V2 : SRV_OP_LIST_OBJECTS;
    }
    case M_PUT:
        return SRV_OP_CREATE_BUCKET;
    case M_HEAD:
        return SRV_OP_HEAD_BUCKET;
    case M_DELETE:
        return SRV_OP_DELETE_BUCKET;
    case M_POST: /* browser-form upload; the key is a form field */
        return SRV_OP_POST_OBJECT;
    default:
        return SRV_OP_METHOD_NOT_ALLOWED;
    }
}

/* Multipart upload operations on an object path, or SRV_OP_NONE. */
static enum srv_op multipart_op(enum method m, const struct srv_query *q, bool has_copy_source)
{
    bool upload_id = srv_query_has(q, "uploadId");
    if (srv_query_has(q, "uploads") && !upload_id)
        return m == M_POST ? SRV_OP_CREATE_MULTIPART : SRV_OP_METHOD_NOT_ALLOWED;
    if (!upload_id) {
        /* GET/HEAD ?partNumber=N read one part of an object. */
        if (srv_query_has(q, "partNumber") && m != M_GET && m != M_HEAD)
            return SRV_OP_NOT_IMPLEMENTED;
        return SRV_OP_NONE;
    }
    switch (m) {
    case M_PUT:
        if (!srv_query_has(q, "partNumber"))
            return SRV_OP_METHOD_NOT_ALLOWED;
        return has_copy_source ? SRV_OP_UPLOAD_PART_COPY : SRV_OP_UPLOAD_PART;
    case M_POST:
        return SRV_OP_COMPLETE_MULTIPART;
    case M_DELETE:
        return SRV_OP_ABORT_MULTIPART;
    case M_GET:
        return SRV_OP_LIST_PARTS;
    default:
        return SRV_OP_METHOD_NOT_ALLOWED;
    }
}

static enum srv_op object_op(enum method m, const struct srv_query *q, bool has_copy_source)
{
    if (has_any(q, object_unimpl, sizeof(object_unimpl) / sizeof(object_unimpl[0])))
        return SRV_OP_NOT_IMPLEMENTED;
    if (srv_query_has(q, "tagging"))
        return tagging_op(m, false);
    enum srv_op mp = multipart_op(m, q, has_copy_source);
    if (mp != SRV_OP_NONE)
        return mp;
    if (srv_query_has(q, "attributes"))
        return m == M_GET ? SRV_OP_GET_OBJECT_ATTRIBUTES : SRV_OP_METHOD_NOT_ALLOWED;
    /* A bucket subresource on an object path is no object operation: refuse it rather than
     * read or overwrite the object. */
    if (has_any(q, bucket_unimpl, sizeof(bucket_unimpl) / sizeof(bucket_unimpl[0])) ||
        srv_query_has(q, "encryption") || srv_query_has(q, "location") ||
        srv_query_has(q, "delete") || srv_query_has(q, "versioning") ||
        srv_query_has(q, "versions") || srv_query_has(q, "policy") ||
        srv_query_has(q, "policyStatus") || srv_query_has(q, "cors"))
        return SRV_OP_NOT_IMPLEMENTED;
    switch (m) {
    case M_PUT:
        return has_copy_source ? SRV_OP_COPY_OBJECT : SRV_OP_PUT_OBJECT;
    case M_GET:
        return SRV_OP_GET_OBJECT;
    case M_HEAD:
        return SRV_OP_HEAD_OBJECT;
    case M_DELETE:
        return SRV_OP_DELETE_OBJECT;
    case M_POST: /* only with a subresource (restore, select, uploads) is POST an S3 call */
        return SRV_OP_NOT_IMPLEMENTED;
    default:
        return SRV_OP_METHOD_NOT_ALLOWED;
    }
}

/* S3 addressing and the operation table; fills r (the caller frees it on any outcome). */
static cof_err s3_route(enum method m, const char *host, const char *raw_path,
                        const struct srv_query *q, bool has_copy_source, struct srv_route *r)
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

    if (m == M_OTHER)
        r->op = SRV_OP_METHOD_NOT_ALLOWED;
    else if (m == M_OPTIONS) /* CORS preflight, whatever the path and query */
        r->op = SRV_OP_CORS_PREFLIGHT;
    else if (r->bucket == NULL)
        r->op = m == M_GET ? SRV_OP_LIST_BUCKETS : SRV_OP_METHOD_NOT_ALLOWED;
    else if (r->key == NULL)
        r->op = bucket_op(m, q);
    else
        r->op = object_op(m, q, has_copy_source);
    return COF_OK;
}

cof_err srv_route_parse(const char *method, const char *host, const char *raw_path,
                        const struct srv_query *q, bool has_copy_source, struct srv_route *out)
{
    cof_err err = COF_OK;
    struct srv_route r = {SRV_OP_NONE, NULL, NULL, NULL, false};
    enum method m = parse_method(method);

    memset(out, 0, sizeof(*out));
    out->op = SRV_OP_NONE;
    if (raw_path == NULL || raw_path[0] != '/') {
        err = COF_ERR_INVALID;
        goto out;
    }
    if (!localstack_route(m, raw_path, &r, &err))
        err = s3_route(m, host, raw_path, q, has_copy_source, &r);
    if (err != COF_OK)
        goto out;
    *out = r;
    memset(&r, 0, sizeof(r));
out:
    srv_route_cleanup(&r);
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
