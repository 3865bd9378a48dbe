/* SPDX-License-Identifier: Apache-2.0 */
/* subres.c: the stored-only bucket sub-resource documents. Each kind's schema (unknown,
 * repeated or missing elements, values outside an enumeration), S3's own refusals with their
 * messages and arguments, the canonical form written back (order, whitespace, comments gone),
 * and what a document names (logging target, replication destinations, notification targets). */
#include "check.h"
#include "s3/subres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "s3/xml.h"

#define XMLNS  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define PFX    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define WEB(x) "<WebsiteConfiguration>" x "</WebsiteConfiguration>"
#define IDX    "<IndexDocument><Suffix>i.html</Suffix></IndexDocument>"
#define RULE(c, r)                                                                                 \
    "<RoutingRules><RoutingRule>" c "<Redirect>" r "</Redirect></RoutingRule></RoutingRules>"
#define REPL(rule)                                                                                 \
    "<ReplicationConfiguration><Role>arn:aws:iam::1:role/r</Role><Rule>" rule                      \
    "</Rule></ReplicationConfiguration>"
#define DEST(b) "<Destination><Bucket>" b "</Bucket></Destination>"

struct bad_case {
    enum srv_subres kind;
    const char *body;
    cof_err want;
    const char *msg;  /* expected message, NULL: none (a bare code) */
    const char *arg;  /* expected ArgumentName (name1 "ArgumentName"), NULL: none */
    const char *aval; /* expected ArgumentValue */
};

static const struct bad_case bad_cases[] = {
    /* not documents, wrong roots */
    {SRV_SUBRES_ACCELERATE, "", COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_ACCELERATE, "<AccelerateConfiguration>", COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_ACCELERATE, "<Other><Status>Enabled</Status></Other>", COF_ERR_MALFORMED_XML, NULL,
     NULL, NULL},
    {SRV_SUBRES_ACCELERATE,
     "<!DOCTYPE x [<!ENTITY e \"Enabled\">]><AccelerateConfiguration><Status>&e;</Status>"
     "</AccelerateConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    /* accelerate */
    {SRV_SUBRES_ACCELERATE, "<AccelerateConfiguration/>", COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_ACCELERATE,
     "<AccelerateConfiguration><Status>enabled</Status>"
     "</AccelerateConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_ACCELERATE,
     "<AccelerateConfiguration><Status>Enabled</Status><Status>Enabled</Status>"
     "</AccelerateConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_ACCELERATE,
     "<AccelerateConfiguration><Status><b>Enabled</b></Status></AccelerateConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_ACCELERATE,
     "<AccelerateConfiguration>x<Status>Enabled</Status></AccelerateConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    /* requestPayment */
    {SRV_SUBRES_REQUEST_PAYMENT,
     "<RequestPaymentConfiguration><Payer></Payer></RequestPaymentConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_REQUEST_PAYMENT,
     "<RequestPaymentConfiguration><Payer>Requester</Payer><X/></RequestPaymentConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    /* logging */
    {SRV_SUBRES_LOGGING,
     "<BucketLoggingStatus><LoggingEnabled><TargetPrefix>p</TargetPrefix></LoggingEnabled>"
     "</BucketLoggingStatus>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_LOGGING,
     "<BucketLoggingStatus><LoggingEnabled><TargetBucket></TargetBucket><TargetPrefix>p"
     "</TargetPrefix></LoggingEnabled></BucketLoggingStatus>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_LOGGING,
     "<BucketLoggingStatus><LoggingEnabled><TargetBucket>b</TargetBucket><TargetPrefix>p"
     "</TargetPrefix><TargetObjectKeyFormat><SimplePrefix/><PartitionedPrefix/>"
     "</TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_LOGGING,
     "<BucketLoggingStatus><LoggingEnabled><TargetBucket>b</TargetBucket><TargetPrefix>p"
     "</TargetPrefix><TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>Now"
     "</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat></LoggingEnabled>"
     "</BucketLoggingStatus>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    /* website: schema */
    {SRV_SUBRES_WEBSITE, WEB("<IndexDocument/>"), COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_WEBSITE, WEB(IDX IDX), COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_WEBSITE, WEB(IDX "<RoutingRules/>"), COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_WEBSITE,
     WEB(IDX "<RoutingRules><RoutingRule><Condition><KeyPrefixEquals>a</KeyPrefixEquals>"
             "</Condition></RoutingRule></RoutingRules>"),
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_WEBSITE,
     WEB("<RedirectAllRequestsTo><Protocol>http</Protocol>"
         "</RedirectAllRequestsTo>"),
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    /* website: S3's refusals */
    {SRV_SUBRES_WEBSITE, WEB(""), COF_ERR_INVALID_ARGUMENT,
     "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
     "IndexDocument", "null"},
    {SRV_SUBRES_WEBSITE, WEB("<ErrorDocument><Key>e</Key></ErrorDocument>"),
     COF_ERR_INVALID_ARGUMENT,
     "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
     "IndexDocument", "null"},
    {SRV_SUBRES_WEBSITE, WEB("<IndexDocument><Suffix>a/b</Suffix></IndexDocument>"),
     COF_ERR_INVALID_ARGUMENT, "The IndexDocument Suffix is not well formed", "IndexDocument",
     "a/b"},
    {SRV_SUBRES_WEBSITE, WEB("<IndexDocument><Suffix> </Suffix></IndexDocument>"),
     COF_ERR_INVALID_ARGUMENT, "The IndexDocument Suffix is not well formed", "IndexDocument",
     NULL},
    {SRV_SUBRES_WEBSITE,
     WEB("<RedirectAllRequestsTo><HostName>h</HostName></RedirectAllRequestsTo>" IDX),
     COF_ERR_INVALID_ARGUMENT,
     "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
     "RedirectAllRequestsTo", "not null"},
    {SRV_SUBRES_WEBSITE,
     WEB("<RedirectAllRequestsTo><HostName>h</HostName><Protocol>HTTP</Protocol>"
         "</RedirectAllRequestsTo>"),
     COF_ERR_INVALID_REQUEST,
     "Invalid protocol, protocol can be http or https. If not defined the protocol will be "
     "selected automatically.",
     NULL, NULL},
    {SRV_SUBRES_WEBSITE, WEB(IDX RULE("<Condition/>", "<HostName>h</HostName>")),
     COF_ERR_INVALID_REQUEST,
     "Condition cannot be empty. To redirect all requests without a condition, the condition "
     "element shouldn't be present.",
     NULL, NULL},
    {SRV_SUBRES_WEBSITE,
     WEB(IDX RULE("", "<ReplaceKeyPrefixWith>a</ReplaceKeyPrefixWith><ReplaceKeyWith>b"
                      "</ReplaceKeyWith>")),
     COF_ERR_INVALID_REQUEST, "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
     NULL, NULL},
    {SRV_SUBRES_WEBSITE, WEB(IDX RULE("", "<HttpRedirectCode>300</HttpRedirectCode>")),
     COF_ERR_INVALID_ARGUMENT,
     "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX except 300.",
     "HttpRedirectCode", "300"},
    {SRV_SUBRES_WEBSITE, WEB(IDX RULE("", "<HttpRedirectCode>30x</HttpRedirectCode>")),
     COF_ERR_INVALID_ARGUMENT,
     "The provided HTTP redirect code (30x) is not valid. Valid codes are 3XX except 300.",
     "HttpRedirectCode", "30x"},
    {SRV_SUBRES_WEBSITE,
     WEB(IDX RULE("<Condition><HttpErrorCodeReturnedEquals>200</HttpErrorCodeReturnedEquals>"
                  "</Condition>",
                  "<HostName>h</HostName>")),
     COF_ERR_INVALID_ARGUMENT,
     "The provided HTTP error code (200) is not valid. Valid codes are 4XX or 5XX.",
     "HttpErrorCodeReturnedEquals", "200"},
    {SRV_SUBRES_WEBSITE, WEB(IDX RULE("", "<Protocol>ftp</Protocol>")), COF_ERR_INVALID_REQUEST,
     "Invalid protocol, protocol can be http or https. If not defined the protocol will be "
     "selected automatically.",
     NULL, NULL},
    /* replication */
    {SRV_SUBRES_REPLICATION, "<ReplicationConfiguration><Role>r</Role></ReplicationConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_REPLICATION, REPL("<Status>Enabled</Status>"), COF_ERR_MALFORMED_XML, NULL, NULL,
     NULL},
    {SRV_SUBRES_REPLICATION, REPL("<Status>On</Status>" DEST("arn:aws:s3:::d")),
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_REPLICATION,
     REPL("<Prefix>a</Prefix><Filter><Prefix>a</Prefix></Filter><Status>Enabled</Status>" DEST(
         "arn:aws:s3:::d") "<DeleteMarkerReplication><Status>Disabled</Status>"
                           "</DeleteMarkerReplication>"),
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_REPLICATION,
     REPL("<Filter><Prefix>a</Prefix></Filter><Status>Enabled</Status>" DEST("arn:aws:s3:::d")),
     COF_ERR_INVALID_REQUEST,
     "DeleteMarkerReplication must be specified for this version of Cross Region Replication "
     "configuration schema.",
     NULL, NULL},
    {SRV_SUBRES_REPLICATION, REPL("<Status>Enabled</Status>" DEST("d")), COF_ERR_INVALID_ARGUMENT,
     "Invalid bucket ARN.", "Bucket", "d"},
    {SRV_SUBRES_REPLICATION, REPL("<Status>Enabled</Status>" DEST("arn:aws:s3:::")),
     COF_ERR_INVALID_ARGUMENT, "Invalid bucket ARN.", "Bucket", "arn:aws:s3:::"},
    {SRV_SUBRES_REPLICATION, REPL("<Status>Enabled</Status>" DEST("arn:aws:s3:::d/k")),
     COF_ERR_INVALID_ARGUMENT, "Invalid bucket ARN.", "Bucket", "arn:aws:s3:::d/k"},
    /* notification */
    {SRV_SUBRES_NOTIFICATION, "<NotificationConfiguration><Bogus/></NotificationConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
    {SRV_SUBRES_NOTIFICATION,
     "<NotificationConfiguration><EventBridgeConfiguration/><EventBridgeConfiguration/>"
     "</NotificationConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, NULL},
};

static void test_refusals(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *tc = &bad_cases[i];
        struct srv_subres_doc d;
        struct srv_problem prob;
        cof_err err = srv_subres_parse(tc->kind, tc->body, strlen(tc->body), &d, &prob);
        if (err != tc->want)
            fprintf(stderr, "case %zu: %s\n", i, cof_err_name(err));
        CHECK_EQ_INT(err, tc->want);
        CHECK(d.xml == NULL && d.buckets == NULL && d.n_buckets == 0);
        CHECK_EQ_INT(prob.code, tc->want);
        if (tc->msg != NULL)
            CHECK_EQ_STR(prob.message, tc->msg);
        else
            CHECK(prob.message == NULL);
        if (tc->arg != NULL) {
            CHECK_EQ_STR(prob.name1, "ArgumentName");
            CHECK_EQ_STR(prob.value1, tc->arg);
            if (tc->aval != NULL) {
                CHECK_EQ_STR(prob.name2, "ArgumentValue");
                CHECK_EQ_STR(prob.value2, tc->aval);
            } else {
                CHECK(prob.name2 == NULL); /* AWS: no ArgumentValue for an empty suffix */
            }
        } else {
            CHECK(prob.name1 == NULL);
        }
    }
}

static void test_too_large(void)
{
    size_t n = SRV_MAX_SMALL_XML_BODY + 1;
    char *big = malloc(n);
    CHECK(big != NULL);
    if (big == NULL)
        return;
    memset(big, ' ', n);
    struct srv_subres_doc d;
    struct srv_problem prob;
    CHECK_EQ_INT(srv_subres_parse(SRV_SUBRES_WEBSITE, big, n, &d, &prob), COF_ERR_TOO_LARGE);
    free(big);
}

struct good_case {
    enum srv_subres kind;
    const char *body;
    const char *canonical; /* after the XML declaration */
};

static const struct good_case good_cases[] = {
    {SRV_SUBRES_ACCELERATE,
     "<AccelerateConfiguration " XMLNS "> <Status> Suspended </Status> </AccelerateConfiguration>",
     "<AccelerateConfiguration " XMLNS "><Status>Suspended</Status></AccelerateConfiguration>"},
    {SRV_SUBRES_REQUEST_PAYMENT,
     "<RequestPaymentConfiguration><!-- who pays --><Payer>Requester</Payer>"
     "</RequestPaymentConfiguration>",
     "<RequestPaymentConfiguration " XMLNS "><Payer>Requester</Payer>"
     "</RequestPaymentConfiguration>"},
    {SRV_SUBRES_LOGGING, "<BucketLoggingStatus/>",
     "<BucketLoggingStatus " XMLNS "></BucketLoggingStatus>"},
    {SRV_SUBRES_LOGGING,
     "<BucketLoggingStatus><LoggingEnabled><TargetObjectKeyFormat><SimplePrefix/>"
     "</TargetObjectKeyFormat><TargetPrefix></TargetPrefix><TargetBucket>logs</TargetBucket>"
     "</LoggingEnabled></BucketLoggingStatus>",
     "<BucketLoggingStatus " XMLNS "><LoggingEnabled><TargetBucket>logs</TargetBucket>"
     "<TargetPrefix></TargetPrefix><TargetObjectKeyFormat><SimplePrefix></SimplePrefix>"
     "</TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>"},
    {SRV_SUBRES_LOGGING,
     "<BucketLoggingStatus><LoggingEnabled><TargetBucket>b</TargetBucket></LoggingEnabled>"
     "</BucketLoggingStatus>",
     "<BucketLoggingStatus " XMLNS "><LoggingEnabled><TargetBucket>b</TargetBucket>"
     "<TargetPrefix></TargetPrefix></LoggingEnabled></BucketLoggingStatus>"},
    {SRV_SUBRES_WEBSITE,
     WEB(RULE("<Condition><KeyPrefixEquals>a/</KeyPrefixEquals></Condition>",
              "<ReplaceKeyPrefixWith>b/</ReplaceKeyPrefixWith><HttpRedirectCode>302"
              "</HttpRedirectCode>") "<ErrorDocument><Key>e.html</Key></ErrorDocument>" IDX),
     "<WebsiteConfiguration " XMLNS "><IndexDocument><Suffix>i.html</Suffix></IndexDocument>"
     "<ErrorDocument><Key>e.html</Key></ErrorDocument><RoutingRules><RoutingRule><Condition>"
     "<KeyPrefixEquals>a/</KeyPrefixEquals></Condition><Redirect><HttpRedirectCode>302"
     "</HttpRedirectCode><ReplaceKeyPrefixWith>b/</ReplaceKeyPrefixWith></Redirect>"
     "</RoutingRule></RoutingRules></WebsiteConfiguration>"},
    {SRV_SUBRES_WEBSITE,
     WEB("<RedirectAllRequestsTo><Protocol>https</Protocol><HostName>x.org</HostName>"
         "</RedirectAllRequestsTo>"),
     "<WebsiteConfiguration " XMLNS "><RedirectAllRequestsTo><HostName>x.org</HostName>"
     "<Protocol>https</Protocol></RedirectAllRequestsTo></WebsiteConfiguration>"},
    {SRV_SUBRES_NOTIFICATION, "<NotificationConfiguration></NotificationConfiguration>",
     "<NotificationConfiguration " XMLNS "></NotificationConfiguration>"},
};

static void test_canonical(void)
{
    for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        const struct good_case *tc = &good_cases[i];
        struct srv_subres_doc d;
        struct srv_problem prob;
        cof_err err = srv_subres_parse(tc->kind, tc->body, strlen(tc->body), &d, &prob);
        if (err != COF_OK)
            fprintf(stderr, "good case %zu: %s\n", i, cof_err_name(err));
        CHECK_EQ_INT(err, COF_OK);
        if (err != COF_OK)
            continue;
        CHECK(strncmp(d.xml, PFX, strlen(PFX)) == 0);
        CHECK_EQ_STR(d.xml + strlen(PFX), tc->canonical);
        CHECK_EQ_INT(d.len, strlen(d.xml));
        /* the canonical form reads back to itself */
        struct srv_subres_doc again;
        CHECK_EQ_INT(srv_subres_parse(tc->kind, d.xml, d.len, &again, &prob), COF_OK);
        CHECK_EQ_STR(again.xml, d.xml);
        srv_subres_doc_cleanup(&again);
        srv_subres_doc_cleanup(&d);
    }
}

static void test_named_buckets(void)
{
    struct srv_subres_doc d;
    struct srv_problem prob;
    const char *log = "<BucketLoggingStatus><LoggingEnabled><TargetBucket>t</TargetBucket>"
                      "<TargetPrefix>p</TargetPrefix></LoggingEnabled></BucketLoggingStatus>";
    CHECK_EQ_INT(srv_subres_parse(SRV_SUBRES_LOGGING, log, strlen(log), &d, &prob), COF_OK);
    CHECK(!d.empty);
    CHECK_EQ_INT(d.n_buckets, 1);
    CHECK_EQ_STR(d.buckets[0], "t");
    srv_subres_doc_cleanup(&d);
    CHECK(d.xml == NULL && d.buckets == NULL);

    const char *off = "<BucketLoggingStatus/>";
    CHECK_EQ_INT(srv_subres_parse(SRV_SUBRES_LOGGING, off, strlen(off), &d, &prob), COF_OK);
    CHECK(d.empty && d.n_buckets == 0);
    srv_subres_doc_cleanup(&d);

    const char *repl = "<ReplicationConfiguration><Role>r</Role><Rule><Status>Enabled</Status>"
                       "<Destination><Bucket>arn:aws:s3:::one</Bucket></Destination></Rule>"
                       "<Rule><Status>Disabled</Status><Destination><Bucket>arn:aws:s3:::two"
                       "</Bucket></Destination></Rule></ReplicationConfiguration>";
    CHECK_EQ_INT(srv_subres_parse(SRV_SUBRES_REPLICATION, repl, strlen(repl), &d, &prob), COF_OK);
    CHECK_EQ_INT(d.n_buckets, 2);
    CHECK_EQ_STR(d.buckets[0], "one");
    CHECK_EQ_STR(d.buckets[1], "two");
    srv_subres_doc_cleanup(&d);

    const char *queue = "<NotificationConfiguration><QueueConfiguration><Queue>arn</Queue>"
                        "<Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
                        "<QueueConfiguration/></NotificationConfiguration>";
    CHECK_EQ_INT(srv_subres_parse(SRV_SUBRES_NOTIFICATION, queue, strlen(queue), &d, &prob),
                 COF_OK);
    CHECK(d.targets && !d.empty);
    srv_subres_doc_cleanup(&d);
    srv_subres_doc_cleanup(NULL);
}

static void test_names(void)
{
    CHECK_EQ_STR(srv_subres_config_name(SRV_SUBRES_WEBSITE), "website");
    CHECK_EQ_STR(srv_subres_root(SRV_SUBRES_REQUEST_PAYMENT), "RequestPaymentConfiguration");
    CHECK_EQ_STR(srv_subres_root(SRV_SUBRES_LOGGING), "BucketLoggingStatus");
}

int main(void)
{
    srv_xml_global_init();
    test_refusals();
    test_too_large();
    test_canonical();
    test_named_buckets();
    test_names();
    return check_finish();
}
