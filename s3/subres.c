/* SPDX-License-Identifier: Apache-2.0 */
/* Stored-only bucket sub-resources: each document's schema as a table, one parser that reads a
 * body against it into a small tree, S3's checks on that tree, and one writer that emits the
 * tree in schema order (the canonical form). No I/O. */
#include "s3/subres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"
#include "s3/xmltree.h"

/* ---- schemas ------------------------------------------------------------------------- */

enum {
    LEAF = 1u,     /* text only */
    MULTI = 2u,    /* may repeat */
    REQ = 4u,      /* must be present */
    OPAQUE = 8u,   /* contents not examined (notification targets, which are refused) */
    EMPTY_OK = 16u /* a leaf that may be empty (SimplePrefix) */
};

struct spec {
    const char *name;
    unsigned flags;
    const struct spec *kids;   /* ends with a {NULL} entry */
    const char *const *values; /* a leaf's allowed values, NULL-terminated; NULL: any */
};

#define END                                                                                        \
    {                                                                                              \
        NULL, 0, NULL, NULL                                                                        \
    }

static const char *const accel_status[] = {"Enabled", "Suspended", NULL};
static const char *const payers[] = {"BucketOwner", "Requester", NULL};
static const char *const on_off[] = {"Enabled", "Disabled", NULL};
static const char *const date_sources[] = {"EventTime", "DeliveryTime", NULL};
static const char *const protocols[] = {"http", "https", NULL};

static const struct spec accelerate[] = {{"Status", LEAF | REQ, NULL, accel_status}, END};
static const struct spec request_payment[] = {{"Payer", LEAF | REQ, NULL, payers}, END};

static const struct spec partitioned[] = {{"PartitionDateSource", LEAF, NULL, date_sources}, END};
static const struct spec key_format[] = {{"SimplePrefix", LEAF | EMPTY_OK, NULL, NULL},
                                         {"PartitionedPrefix", 0, partitioned, NULL},
                                         END};
static const struct spec logging_enabled[] = {{"TargetBucket", LEAF | REQ, NULL, NULL},
                                              {"TargetPrefix", LEAF | EMPTY_OK, NULL, NULL},
                                              {"TargetObjectKeyFormat", 0, key_format, NULL},
                                              END};
static const struct spec logging[] = {{"LoggingEnabled", 0, logging_enabled, NULL}, END};

static const struct spec redirect_all[] = {
    {"HostName", LEAF | REQ, NULL, NULL}, {"Protocol", LEAF, NULL, NULL}, END};
static const struct spec index_doc[] = {{"Suffix", LEAF | REQ | EMPTY_OK, NULL, NULL}, END};
static const struct spec error_doc[] = {{"Key", LEAF | REQ, NULL, NULL}, END};
static const struct spec condition[] = {{"HttpErrorCodeReturnedEquals", LEAF, NULL, NULL},
                                        {"KeyPrefixEquals", LEAF | EMPTY_OK, NULL, NULL},
                                        END};
static const struct spec redirect[] = {{"HostName", LEAF, NULL, NULL},
                                       {"HttpRedirectCode", LEAF, NULL, NULL},
                                       {"Protocol", LEAF, NULL, NULL},
                                       {"ReplaceKeyPrefixWith", LEAF | EMPTY_OK, NULL, NULL},
                                       {"ReplaceKeyWith", LEAF | EMPTY_OK, NULL, NULL},
                                       END};
static const struct spec routing_rule[] = {
    {"Condition", 0, condition, NULL}, {"Redirect", REQ, redirect, NULL}, END};
static const struct spec routing_rules[] = {{"RoutingRule", MULTI | REQ, routing_rule, NULL}, END};
static const struct spec website[] = {{"RedirectAllRequestsTo", 0, redirect_all, NULL},
                                      {"IndexDocument", 0, index_doc, NULL},
                                      {"ErrorDocument", 0, error_doc, NULL},
                                      {"RoutingRules", 0, routing_rules, NULL},
                                      END};

static const struct spec status_only[] = {{"Status", LEAF | REQ, NULL, on_off}, END};
static const struct spec minutes[] = {{"Minutes", LEAF | REQ, NULL, NULL}, END};
static const struct spec tag[] = {
    {"Key", LEAF | REQ, NULL, NULL}, {"Value", LEAF | REQ | EMPTY_OK, NULL, NULL}, END};
static const struct spec filter_and[] = {
    {"Prefix", LEAF | EMPTY_OK, NULL, NULL}, {"Tag", MULTI, tag, NULL}, END};
static const struct spec filter[] = {{"Prefix", LEAF | EMPTY_OK, NULL, NULL},
                                     {"Tag", 0, tag, NULL},
                                     {"And", 0, filter_and, NULL},
                                     END};
static const struct spec selection[] = {{"SseKmsEncryptedObjects", 0, status_only, NULL},
                                        {"ReplicaModifications", 0, status_only, NULL},
                                        END};
static const struct spec acl_translation[] = {{"Owner", LEAF | REQ, NULL, NULL}, END};
static const struct spec replica_encryption[] = {{"ReplicaKmsKeyID", LEAF, NULL, NULL}, END};
static const struct spec repl_time[] = {
    {"Status", LEAF | REQ, NULL, on_off}, {"Time", REQ, minutes, NULL}, END};
static const struct spec metrics[] = {
    {"Status", LEAF | REQ, NULL, on_off}, {"EventThreshold", 0, minutes, NULL}, END};
static const struct spec destination[] = {{"Bucket", LEAF | REQ, NULL, NULL},
                                          {"Account", LEAF, NULL, NULL},
                                          {"StorageClass", LEAF, NULL, NULL},
                                          {"AccessControlTranslation", 0, acl_translation, NULL},
                                          {"EncryptionConfiguration", 0, replica_encryption, NULL},
                                          {"ReplicationTime", 0, repl_time, NULL},
                                          {"Metrics", 0, metrics, NULL},
                                          END};
static const struct spec repl_rule[] = {{"ID", LEAF, NULL, NULL},
                                        {"Priority", LEAF, NULL, NULL},
                                        {"Prefix", LEAF | EMPTY_OK, NULL, NULL},
                                        {"Filter", 0, filter, NULL},
                                        {"Status", LEAF | REQ, NULL, on_off},
                                        {"SourceSelectionCriteria", 0, selection, NULL},
                                        {"ExistingObjectReplication", 0, status_only, NULL},
                                        {"Destination", REQ, destination, NULL},
                                        {"DeleteMarkerReplication", 0, status_only, NULL},
                                        END};
static const struct spec replication[] = {
    {"Role", LEAF | REQ, NULL, NULL}, {"Rule", MULTI | REQ, repl_rule, NULL}, END};

static const struct spec notification[] = {
    {"TopicConfiguration", MULTI | OPAQUE, NULL, NULL},
    {"QueueConfiguration", MULTI | OPAQUE, NULL, NULL},
    {"CloudFunctionConfiguration", MULTI | OPAQUE, NULL, NULL},
    {"EventBridgeConfiguration", OPAQUE, NULL, NULL},
    END};

static const struct {
    const char *config; /* stored name */
    const char *root;
    const struct spec *kids;
} kinds[] = {
    [SRV_SUBRES_ACCELERATE] = {"accelerate", "AccelerateConfiguration", accelerate},
    [SRV_SUBRES_REQUEST_PAYMENT] = {"requestPayment", "RequestPaymentConfiguration",
                                    request_payment},
    [SRV_SUBRES_LOGGING] = {"logging", "BucketLoggingStatus", logging},
    [SRV_SUBRES_WEBSITE] = {"website", "WebsiteConfiguration", website},
    [SRV_SUBRES_REPLICATION] = {"replication", "ReplicationConfiguration", replication},
    [SRV_SUBRES_NOTIFICATION] = {"notification", "NotificationConfiguration", notification},
};

const char *srv_subres_config_name(enum srv_subres kind)
{
    return kinds[kind].config;
}

const char *srv_subres_root(enum srv_subres kind)
{
    return kinds[kind].root;
}

/* ---- the tree ------------------------------------------------------------------------ */

struct node {
    const struct spec *spec;
    char *text; /* leaves */
    struct node *kids;
    size_t n;
};

static void node_cleanup(struct node *nd)
{
    for (size_t i = 0; i < nd->n; i++)
        node_cleanup(&nd->kids[i]);
    free(nd->kids);
    free(nd->text);
    memset(nd, 0, sizeof(*nd));
}

static bool value_allowed(const char *const *values, const char *v)
{
    for (size_t i = 0; values != NULL && values[i] != NULL; i++) {
        if (strcmp(values[i], v) == 0)
            return true;
    }
    return values == NULL;
}

static const struct spec *kid_spec(const struct spec *kids, const xmlNode *el)
{
    for (size_t i = 0; kids[i].name != NULL; i++) {
        if (srv_xmltree_is_elem(el, kids[i].name))
            return &kids[i];
    }
    return NULL;
}

static size_t count_of(const struct node *nd, const struct spec *sp)
{
    size_t c = 0;
    for (size_t i = 0; i < nd->n; i++)
        c += nd->kids[i].spec == sp;
    return c;
}

static cof_err build(const xmlNode *el, const struct spec *kids, struct node *out);

/* Reads child element el (of spec sp) as a new last kid of parent. */
static cof_err add_kid(struct node *parent, const xmlNode *el, const struct spec *sp)
{
    struct node *v = realloc(parent->kids, (parent->n + 1) * sizeof(*v));
    if (v == NULL)
        return COF_ERR_NOMEM;
    parent->kids = v;
    struct node *k = &v[parent->n++];
    memset(k, 0, sizeof(*k));
    k->spec = sp;
    if (sp->flags & OPAQUE)
        return COF_OK;
    if (!(sp->flags & LEAF))
        return build(el, sp->kids, k);
    cof_err err = srv_xmltree_leaf_text(el, true, &k->text);
    if (err == COF_OK && k->text[0] == '\0' && !(sp->flags & EMPTY_OK))
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK && !value_allowed(sp->values, k->text))
        err = COF_ERR_MALFORMED_XML;
    return err;
}

/* The children of container el, each known to kids, singles once, required ones present. */
static cof_err build(const xmlNode *el, const struct spec *kids, struct node *out)
{
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *c = el->children; err == COF_OK && c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const struct spec *sp = kid_spec(kids, c);
        if (sp == NULL || (!(sp->flags & MULTI) && count_of(out, sp) > 0))
            return COF_ERR_MALFORMED_XML;
        err = add_kid(out, c, sp);
    }
    for (size_t i = 0; err == COF_OK && kids[i].name != NULL; i++) {
        if ((kids[i].flags & REQ) && count_of(out, &kids[i]) == 0)
            err = COF_ERR_MALFORMED_XML;
    }
    return err;
}

/* The index of the first kid named name, nd->n when there is none. */
static size_t kid_index(const struct node *nd, const char *name)
{
    size_t i = 0;
    while (i < nd->n && strcmp(nd->kids[i].spec->name, name) != 0)
        i++;
    return i;
}

/* The first kid named name, or NULL (also when nd is NULL). */
static const struct node *kid(const struct node *nd, const char *name)
{
    if (nd == NULL)
        return NULL;
    size_t i = kid_index(nd, name);
    return i < nd->n ? &nd->kids[i] : NULL;
}

static const char *kid_text(const struct node *nd, const char *name)
{
    const struct node *k = kid(nd, name);
    return k != NULL ? k->text : NULL;
}

/* Writes nd's kids in schema order. */
static cof_err write_kids(struct srv_xml *x, const struct node *nd, const struct spec *kids)
{
    cof_err err = COF_OK;
    for (size_t s = 0; err == COF_OK && kids[s].name != NULL; s++) {
        for (size_t i = 0; err == COF_OK && i < nd->n; i++) {
            const struct node *k = &nd->kids[i];
            if (k->spec != &kids[s] || (k->spec->flags & OPAQUE))
                continue;
            if (k->spec->flags & LEAF) {
                err = srv_xml_elem(x, k->spec->name, k->text);
                continue;
            }
            err = srv_xml_open(x, k->spec->name);
            if (err == COF_OK)
                err = write_kids(x, k, k->spec->kids);
            if (err == COF_OK)
                err = srv_xml_close(x);
        }
    }
    return err;
}

/* ---- S3's checks --------------------------------------------------------------------- */

static cof_err add_bucket(struct srv_subres_doc *d, const char *name)
{
    if (d->n_buckets >= SRV_SUBRES_MAX_BUCKETS)
        return COF_ERR_MALFORMED_XML;
    char **v = realloc(d->buckets, (d->n_buckets + 1) * sizeof(*v));
    if (v == NULL)
        return COF_ERR_NOMEM;
    d->buckets = v;
    v[d->n_buckets] = strdup(name);
    if (v[d->n_buckets] == NULL)
        return COF_ERR_NOMEM;
    d->n_buckets++;
    return COF_OK;
}

/* Appends a leaf of spec sp with an empty text to nd. */
static cof_err add_empty_leaf(struct node *nd, const struct spec *sp)
{
    struct node *v = realloc(nd->kids, (nd->n + 1) * sizeof(*v));
    if (v == NULL)
        return COF_ERR_NOMEM;
    nd->kids = v;
    memset(&v[nd->n], 0, sizeof(v[nd->n]));
    v[nd->n].spec = sp;
    v[nd->n].text = strdup("");
    nd->n++;
    return v[nd->n - 1].text != NULL ? COF_OK : COF_ERR_NOMEM;
}

static cof_err check_logging(struct node *root, struct srv_subres_doc *d)
{
    size_t i = kid_index(root, "LoggingEnabled");
    struct node *le = i < root->n ? &root->kids[i] : NULL;
    d->empty = le == NULL;
    if (le == NULL)
        return COF_OK;
    /* S3 takes a missing TargetPrefix as an empty one. */
    if (kid(le, "TargetPrefix") == NULL) {
        cof_err err = add_empty_leaf(le, &logging_enabled[1]);
        if (err != COF_OK)
            return err;
    }
    const struct node *fmt = kid(le, "TargetObjectKeyFormat");
    /* S3: exactly one of SimplePrefix and PartitionedPrefix. */
    if (fmt != NULL &&
        (kid(fmt, "SimplePrefix") != NULL) == (kid(fmt, "PartitionedPrefix") != NULL))
        return COF_ERR_MALFORMED_XML;
    return add_bucket(d, kid_text(le, "TargetBucket"));
}

static bool protocol_ok(struct srv_problem *prob, const char *p)
{
    if (p == NULL || value_allowed(protocols, p))
        return true;
    srv_problem_set(prob, COF_ERR_INVALID_REQUEST,
                    "Invalid protocol, protocol can be http or https. If not defined the "
                    "protocol will be selected automatically.");
    return false;
}

/* A three-digit status code in [lo, hi]. */
static bool code_in(const char *s, int lo, int hi)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return strlen(s) == 3 && *end == '\0' && v >= lo && v <= hi;
}

static cof_err check_routing_rule(const struct node *rule, struct srv_problem *prob)
{
    const struct node *cond = kid(rule, "Condition");
    const struct node *red = kid(rule, "Redirect");
    if (cond != NULL && cond->n == 0)
        return srv_problem_set(prob, COF_ERR_INVALID_REQUEST,
                               "Condition cannot be empty. To redirect all requests without a "
                               "condition, the condition element shouldn't be present.");
    const char *ec = kid_text(cond, "HttpErrorCodeReturnedEquals");
    if (ec != NULL && !code_in(ec, 400, 599))
        return srv_problem_arg(
            prob, COF_ERR_INVALID_ARGUMENT,
            srv_problem_keep(prob,
                             "The provided HTTP error code (%.16s) is not valid. Valid codes are "
                             "4XX or 5XX.",
                             ec),
            "HttpErrorCodeReturnedEquals", srv_problem_keep(prob, "%.16s", ec));
    if (kid(red, "ReplaceKeyPrefixWith") != NULL && kid(red, "ReplaceKeyWith") != NULL)
        return srv_problem_set(prob, COF_ERR_INVALID_REQUEST,
                               "You can only define ReplaceKeyPrefix or ReplaceKey but not both.");
    const char *rc = kid_text(red, "HttpRedirectCode");
    if (rc != NULL && (!code_in(rc, 301, 399)))
        return srv_problem_arg(
            prob, COF_ERR_INVALID_ARGUMENT,
            srv_problem_keep(prob,
                             "The provided HTTP redirect code (%.16s) is not valid. Valid codes "
                             "are 3XX except 300.",
                             rc),
            "HttpRedirectCode", srv_problem_keep(prob, "%.16s", rc));
    if (!protocol_ok(prob, kid_text(red, "Protocol")))
        return prob->code;
    return COF_OK;
}

static cof_err check_website(const struct node *root, struct srv_problem *prob)
{
    const struct node *all = kid(root, "RedirectAllRequestsTo");
    const struct node *index = kid(root, "IndexDocument");
    if (all != NULL && root->n > 1)
        return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT,
                               "RedirectAllRequestsTo cannot be provided in conjunction with "
                               "other Routing Rules.",
                               "RedirectAllRequestsTo", "not null");
    if (all != NULL)
        return protocol_ok(prob, kid_text(all, "Protocol")) ? COF_OK : prob->code;
    if (index == NULL)
        return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT,
                               "A value for IndexDocument Suffix must be provided if "
                               "RedirectAllRequestsTo is empty",
                               "IndexDocument", "null");
    const char *suffix = kid_text(index, "Suffix");
    if (suffix[0] == '\0' || strchr(suffix, '/') != NULL)
        return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT,
                               "The IndexDocument Suffix is not well formed", "IndexDocument",
                               suffix[0] != '\0' ? srv_problem_keep(prob, "%.200s", suffix) : NULL);
    const struct node *rules = kid(root, "RoutingRules");
    for (size_t i = 0; rules != NULL && i < rules->n; i++) {
        cof_err err = check_routing_rule(&rules->kids[i], prob);
        if (err != COF_OK)
            return err;
    }
    return COF_OK;
}

#define BUCKET_ARN "arn:aws:s3:::"

static cof_err check_replication(const struct node *root, struct srv_subres_doc *d,
                                 struct srv_problem *prob)
{
    for (size_t i = 0; i < root->n; i++) {
        const struct node *rule = &root->kids[i];
        if (strcmp(rule->spec->name, "Rule") != 0)
            continue;
        /* The V2 schema (a Filter) asks for DeleteMarkerReplication; V1 has a Prefix. */
        if (kid(rule, "Filter") != NULL && kid(rule, "Prefix") != NULL)
            return COF_ERR_MALFORMED_XML;
        if (kid(rule, "Filter") != NULL && kid(rule, "DeleteMarkerReplication") == NULL)
            return srv_problem_set(prob, COF_ERR_INVALID_REQUEST,
                                   "DeleteMarkerReplication must be specified for this version "
                                   "of Cross Region Replication configuration schema.");
        const char *arn = kid_text(kid(rule, "Destination"), "Bucket");
        if (strncmp(arn, BUCKET_ARN, strlen(BUCKET_ARN)) != 0 || arn[strlen(BUCKET_ARN)] == '\0' ||
            strchr(arn + strlen(BUCKET_ARN), '/') != NULL)
            return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Invalid bucket ARN.", "Bucket",
                                   srv_problem_keep(prob, "%.200s", arn));
        cof_err err = add_bucket(d, arn + strlen(BUCKET_ARN));
        if (err != COF_OK)
            return err;
    }
    return COF_OK;
}

static cof_err check_kind(enum srv_subres kind, struct node *root, struct srv_subres_doc *d,
                          struct srv_problem *prob)
{
    switch (kind) {
    case SRV_SUBRES_LOGGING:
        return check_logging(root, d);
    case SRV_SUBRES_WEBSITE:
        return check_website(root, prob);
    case SRV_SUBRES_REPLICATION:
        return check_replication(root, d, prob);
    case SRV_SUBRES_NOTIFICATION:
        d->targets = root->n > 0;
        d->empty = root->n == 0;
        return COF_OK;
    case SRV_SUBRES_ACCELERATE:
    case SRV_SUBRES_REQUEST_PAYMENT:
        return COF_OK;
    }
    return COF_OK;
}

/* ---- entry points -------------------------------------------------------------------- */

cof_err srv_subres_parse(enum srv_subres kind, const char *body, size_t n,
                         struct srv_subres_doc *out, struct srv_problem *prob)
{
    xmlDocPtr doc = NULL;
    struct srv_xml *x = NULL;
    struct node root;
    memset(&root, 0, sizeof(root));
    memset(out, 0, sizeof(*out));
    srv_problem_init(prob);
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    const xmlNode *el = err == COF_OK ? xmlDocGetRootElement(doc) : NULL;
    if (err == COF_OK && (el == NULL || !srv_xmltree_is_elem(el, kinds[kind].root)))
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK)
        err = build(el, kinds[kind].kids, &root);
    if (err == COF_OK)
        err = check_kind(kind, &root, out, prob);
    if (err == COF_OK)
        err = srv_xml_new(kinds[kind].root, &x);
    if (err == COF_OK)
        err = write_kids(x, &root, kinds[kind].kids);
    if (err == COF_OK)
        err = srv_xml_finish(x, &out->xml, &out->len);
    srv_xml_free(x);
    node_cleanup(&root);
    srv_xmltree_free(doc);
    if (err != COF_OK)
        srv_subres_doc_cleanup(out);
    return srv_problem_finish(prob, err);
}

void srv_subres_doc_cleanup(struct srv_subres_doc *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_buckets; i++)
        free(d->buckets[i]);
    free(d->buckets);
    free(d->xml);
    memset(d, 0, sizeof(*d));
}
