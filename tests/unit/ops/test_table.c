/* SPDX-License-Identifier: Apache-2.0 */
/* ops/table + s3/route: addressing styles, the operation table's routing, LocalStack endpoints,
 * bucket names. */
#include "check.h"
#include "common/buf.h"
#include "common/err.h"
#include "ops/table.h"

#include <stdlib.h>

struct route_case {
    const char *method;
    const char *host;
    const char *path;
    const char *query;
    bool copy;
    cof_err err;
    const char *op;     /* the row's operation name */
    const char *bucket; /* NULL: expect NULL */
    const char *key;
    bool vhost;
};

#define LH "localhost:4566"
#define VH "b1.s3.localhost.localstack.cloud:4566"

static const struct route_case cases[] = {
    /* service level */
    {"GET", LH, "/", NULL, false, COF_OK, "ListBuckets", NULL, NULL, false},
    {"GET", NULL, "/", "x-id=ListBuckets", false, COF_OK, "ListBuckets", NULL, NULL, false},
    {"GET", "s3.localhost.localstack.cloud:4566", "/", NULL, false, COF_OK, "ListBuckets", NULL,
     NULL, false},
    {"GET", "s3.amazonaws.com", "/", NULL, false, COF_OK, "ListBuckets", NULL, NULL, false},
    {"PUT", LH, "/", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL, false},
    {"DELETE", LH, "/", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL, false},
    {"PATCH", LH, "/", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL, false},
    /* path style, bucket level */
    {"PUT", LH, "/b1", NULL, false, COF_OK, "CreateBucket", "b1", NULL, false},
    {"PUT", LH, "/b1/", NULL, false, COF_OK, "CreateBucket", "b1", NULL, false},
    {"HEAD", LH, "/b1", NULL, false, COF_OK, "HeadBucket", "b1", NULL, false},
    {"DELETE", LH, "/b1", NULL, false, COF_OK, "DeleteBucket", "b1", NULL, false},
    {"GET", LH, "/b1", NULL, false, COF_OK, "ListObjects", "b1", NULL, false},
    {"GET", LH, "/b1", "prefix=a&delimiter=%2F", false, COF_OK, "ListObjects", "b1", NULL, false},
    {"GET", LH, "/b1", "list-type=2", false, COF_OK, "ListObjectsV2", "b1", NULL, false},
    {"GET", LH, "/b1", "list-type=2&encoding-type=url&continuation-token=x", false, COF_OK,
     "ListObjectsV2", "b1", NULL, false},
    {"GET", LH, "/b1", "list-type=1", false, COF_OK, "ListObjects", "b1", NULL, false},
    {"GET", LH, "/b1", "location", false, COF_OK, "GetBucketLocation", "b1", NULL, false},
    {"GET", LH, "/b1", "location=", false, COF_OK, "GetBucketLocation", "b1", NULL, false},
    {"PUT", LH, "/b1", "location", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "encryption", false, COF_OK, "GetBucketEncryption", "b1", NULL, false},
    {"PUT", LH, "/b1", "encryption", false, COF_OK, "PutBucketEncryption", "b1", NULL, false},
    {"DELETE", LH, "/b1", "encryption", false, COF_OK, "DeleteBucketEncryption", "b1", NULL, false},
    {"POST", LH, "/b1", "encryption", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"POST", LH, "/b1", "delete", false, COF_OK, "DeleteObjects", "b1", NULL, false},
    {"POST", LH, "/b1/", "delete=", false, COF_OK, "DeleteObjects", "b1", NULL, false},
    {"GET", LH, "/b1", "delete", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "versioning", false, COF_OK, "GetBucketVersioning", "b1", NULL, false},
    {"PUT", LH, "/b1", "policy", false, COF_OK, "PutBucketPolicy", "b1", NULL, false},
    {"GET", LH, "/b1", "policy", false, COF_OK, "GetBucketPolicy", "b1", NULL, false},
    {"DELETE", LH, "/b1", "policy", false, COF_OK, "DeleteBucketPolicy", "b1", NULL, false},
    {"POST", LH, "/b1", "policy", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "policyStatus", false, COF_OK, "GetBucketPolicyStatus", "b1", NULL, false},
    {"PUT", LH, "/b1", "policyStatus", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"PUT", LH, "/b1/k", "policy", false, COF_OK, "NotImplemented", "b1", "k", false},
    /* POST Object (browser form upload): path and virtual-host style */
    {"POST", LH, "/b1", NULL, false, COF_OK, "PostObject", "b1", NULL, false},
    {"POST", LH, "/b1/", NULL, false, COF_OK, "PostObject", "b1", NULL, false},
    {"POST", VH, "/", NULL, false, COF_OK, "PostObject", "b1", NULL, true},
    {"GET", LH, "/b1", "uploads", false, COF_OK, "ListMultipartUploads", "b1", NULL, false},
    {"PUT", LH, "/b1", "uploads", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "versions&prefix=a", false, COF_OK, "ListObjectVersions", "b1", NULL, false},
    {"GET", LH, "/b1", "accelerate", false, COF_OK, "GetBucketAccelerateConfiguration", "b1", NULL,
     false},
    {"PUT", LH, "/b1", "accelerate", false, COF_OK, "PutBucketAccelerateConfiguration", "b1", NULL,
     false},
    {"DELETE", LH, "/b1", "accelerate", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "requestPayment", false, COF_OK, "GetBucketRequestPayment", "b1", NULL,
     false},
    {"PUT", LH, "/b1", "requestPayment", false, COF_OK, "PutBucketRequestPayment", "b1", NULL,
     false},
    {"GET", LH, "/b1", "logging", false, COF_OK, "GetBucketLogging", "b1", NULL, false},
    {"PUT", LH, "/b1", "logging", false, COF_OK, "PutBucketLogging", "b1", NULL, false},
    {"DELETE", LH, "/b1", "logging", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "website", false, COF_OK, "GetBucketWebsite", "b1", NULL, false},
    {"PUT", LH, "/b1", "website", false, COF_OK, "PutBucketWebsite", "b1", NULL, false},
    {"DELETE", LH, "/b1", "website", false, COF_OK, "DeleteBucketWebsite", "b1", NULL, false},
    {"POST", LH, "/b1", "website", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "replication", false, COF_OK, "GetBucketReplication", "b1", NULL, false},
    {"PUT", LH, "/b1", "replication", false, COF_OK, "PutBucketReplication", "b1", NULL, false},
    {"DELETE", LH, "/b1", "replication", false, COF_OK, "DeleteBucketReplication", "b1", NULL,
     false},
    {"GET", LH, "/b1", "notification", false, COF_OK, "GetBucketNotificationConfiguration", "b1",
     NULL, false},
    {"PUT", LH, "/b1", "notification", false, COF_OK, "PutBucketNotificationConfiguration", "b1",
     NULL, false},
    {"DELETE", LH, "/b1", "notification", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "inventory", false, COF_OK, "NotImplemented", "b1", NULL, false},
    {"GET", LH, "/b1", "object-lock", false, COF_OK, "GetObjectLockConfiguration", "b1", NULL,
     false},
    {"PUT", LH, "/b1", "object-lock", false, COF_OK, "PutObjectLockConfiguration", "b1", NULL,
     false},
    {"DELETE", LH, "/b1", "object-lock", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "lifecycle", false, COF_OK, "GetBucketLifecycleConfiguration", "b1", NULL,
     false},
    {"PUT", LH, "/b1", "lifecycle", false, COF_OK, "PutBucketLifecycleConfiguration", "b1", NULL,
     false},
    {"DELETE", LH, "/b1", "lifecycle", false, COF_OK, "DeleteBucketLifecycle", "b1", NULL, false},
    {"POST", LH, "/b1", "lifecycle", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"PUT", LH, "/b1/k", "lifecycle", false, COF_OK, "NotImplemented", "b1", "k", false},
    {"POST", LH, "/_coffer/lifecycle/run", "now=2030-01-01", false, COF_OK, "CofferLifecycleRun",
     NULL, NULL, false},
    {"GET", LH, "/_coffer/lifecycle/run", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL,
     false},
    {"PUT", LH, "/b1", "publicAccessBlock", false, COF_OK, "PutPublicAccessBlock", "b1", NULL,
     false},
    {"DELETE", LH, "/b1", "publicAccessBlock", false, COF_OK, "DeletePublicAccessBlock", "b1", NULL,
     false},
    {"POST", LH, "/b1", "publicAccessBlock", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1", "ownershipControls", false, COF_OK, "GetBucketOwnershipControls", "b1", NULL,
     false},
    {"GET", LH, "/b1", "acl", false, COF_OK, "GetBucketAcl", "b1", NULL, false},
    {"PUT", LH, "/b1", "acl", false, COF_OK, "PutBucketAcl", "b1", NULL, false},
    {"DELETE", LH, "/b1", "cors", false, COF_OK, "DeleteBucketCors", "b1", NULL, false},
    {"PUT", LH, "/b1", "cors", false, COF_OK, "PutBucketCors", "b1", NULL, false},
    {"GET", LH, "/b1", "cors", false, COF_OK, "GetBucketCors", "b1", NULL, false},
    {"POST", LH, "/b1", "cors", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"GET", LH, "/b1/k", "cors", false, COF_OK, "NotImplemented", "b1", "k", false},
    {"OPTIONS", LH, "/b1/k", NULL, false, COF_OK, "PreflightRequest", "b1", "k", false},
    {"OPTIONS", LH, "/", NULL, false, COF_OK, "PreflightRequest", NULL, NULL, false},
    {"GET", LH, "/b1", "intelligent-tiering", false, COF_OK, "NotImplemented", "b1", NULL, false},
    {"OPTIONS", LH, "/b1", NULL, false, COF_OK, "PreflightRequest", "b1", NULL, false},
    {"TRACE", LH, "/b1", NULL, false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"get", LH, "/b1", NULL, false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    /* path style, object level */
    {"PUT", LH, "/b1/k", NULL, false, COF_OK, "PutObject", "b1", "k", false},
    {"PUT", LH, "/b1/k", NULL, true, COF_OK, "CopyObject", "b1", "k", false},
    {"GET", LH, "/b1/k", NULL, true, COF_OK, "GetObject", "b1", "k", false},
    {"HEAD", LH, "/b1/a/b/c.txt", NULL, false, COF_OK, "HeadObject", "b1", "a/b/c.txt", false},
    {"DELETE", LH, "/b1/k", NULL, false, COF_OK, "DeleteObject", "b1", "k", false},
    {"DELETE", LH, "/b1/k", "versionId=abc", false, COF_OK, "DeleteObject", "b1", "k", false},
    {"GET", LH, "/b1/k", "response-content-type=text%2Fplain&x-id=GetObject", false, COF_OK,
     "GetObject", "b1", "k", false},
    {"GET", LH, "/b1/k", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00", false, COF_OK,
     "GetObject", "b1", "k", false},
    {"PUT", LH, "/b1/k", "location", false, COF_OK, "NotImplemented", "b1", "k", false},
    {"PUT", LH, "/b1/k", "website", false, COF_OK, "NotImplemented", "b1", "k", false},
    {"GET", LH, "/b1/k", "versioning", false, COF_OK, "NotImplemented", "b1", "k", false},
    {"GET", LH, "/b1//x", NULL, false, COF_OK, "GetObject", "b1", "/x", false},
    {"GET", LH, "/b1/x/", NULL, false, COF_OK, "GetObject", "b1", "x/", false},
    {"GET", LH, "/b1/a%20b+c", NULL, false, COF_OK, "GetObject", "b1", "a b+c", false},
    {"GET", LH, "/b1/a%2Fb%3F%23", NULL, false, COF_OK, "GetObject", "b1", "a/b?#", false},
    {"GET", LH, "/b1/%C3%A9t%C3%A9", NULL, false, COF_OK, "GetObject", "b1", "\xc3\xa9t\xc3\xa9",
     false},
    {"GET", LH, "/b1/%01%7F", NULL, false, COF_OK, "GetObject", "b1", "\x01\x7f", false},
    {"GET", LH, "/my%2Dbucket/k", NULL, false, COF_OK, "GetObject", "my-bucket", "k", false},
    {"PUT", LH, "/b1/k", "uploads", false, COF_OK, "MethodNotAllowed", "b1", "k", false},
    {"POST", LH, "/b1/k", "uploads", false, COF_OK, "CreateMultipartUpload", "b1", "k", false},
    {"GET", LH, "/b1/k", "uploadId=x", false, COF_OK, "ListParts", "b1", "k", false},
    {"POST", LH, "/b1/k", "uploadId=x", false, COF_OK, "CompleteMultipartUpload", "b1", "k", false},
    {"PUT", LH, "/b1/k", "uploadId=x", false, COF_OK, "MethodNotAllowed", "b1", "k", false},
    {"PUT", LH, "/b1/k", "partNumber=1&uploadId=x", false, COF_OK, "UploadPart", "b1", "k", false},
    {"PUT", LH, "/b1/k", "partNumber=1&uploadId=x", true, COF_OK, "UploadPartCopy", "b1", "k",
     false},
    {"GET", LH, "/b1/k", "partNumber=1", false, COF_OK, "GetObject", "b1", "k", false},
    {"HEAD", LH, "/b1/k", "partNumber=2", false, COF_OK, "HeadObject", "b1", "k", false},
    {"PUT", LH, "/b1/k", "partNumber=2", false, COF_OK, "NotImplemented", "b1", "k", false},
    {"DELETE", LH, "/b1/k", "uploadId=x", false, COF_OK, "AbortMultipartUpload", "b1", "k", false},
    {"GET", LH, "/b1/k", "tagging", false, COF_OK, "GetObjectTagging", "b1", "k", false},
    {"PUT", LH, "/b1/k", "tagging", false, COF_OK, "PutObjectTagging", "b1", "k", false},
    {"PUT", LH, "/b1/k", "tagging", true, COF_OK, "PutObjectTagging", "b1", "k", false},
    {"DELETE", LH, "/b1/k", "tagging&versionId=null", false, COF_OK, "DeleteObjectTagging", "b1",
     "k", false},
    {"POST", LH, "/b1/k", "tagging", false, COF_OK, "MethodNotAllowed", "b1", "k", false},
    {"GET", LH, "/b1", "tagging", false, COF_OK, "GetBucketTagging", "b1", NULL, false},
    {"PUT", LH, "/b1/", "tagging", false, COF_OK, "PutBucketTagging", "b1", NULL, false},
    {"DELETE", LH, "/b1", "tagging", false, COF_OK, "DeleteBucketTagging", "b1", NULL, false},
    {"HEAD", LH, "/b1", "tagging", false, COF_OK, "MethodNotAllowed", "b1", NULL, false},
    {"PUT", LH, "/b1/k", "retention", false, COF_OK, "PutObjectRetention", "b1", "k", false},
    {"GET", LH, "/b1/k", "retention", false, COF_OK, "GetObjectRetention", "b1", "k", false},
    {"POST", LH, "/b1/k", "retention", false, COF_OK, "MethodNotAllowed", "b1", "k", false},
    {"GET", LH, "/b1/k", "legal-hold", false, COF_OK, "GetObjectLegalHold", "b1", "k", false},
    {"PUT", LH, "/b1/k", "legal-hold", false, COF_OK, "PutObjectLegalHold", "b1", "k", false},
    {"PUT", LH, "/b1/k", "acl", false, COF_OK, "PutObjectAcl", "b1", "k", false},
    {"GET", LH, "/b1/k", "acl&versionId=v", false, COF_OK, "GetObjectAcl", "b1", "k", false},
    {"DELETE", LH, "/b1/k", "acl", false, COF_OK, "MethodNotAllowed", "b1", "k", false},
    {"GET", LH, "/b1/k", "attributes", false, COF_OK, "GetObjectAttributes", "b1", "k", false},
    {"POST", LH, "/b1/k", "restore", false, COF_OK, "NotImplemented", "b1", "k", false},
    {"POST", LH, "/b1/k", "select&select-type=2", false, COF_OK, "NotImplemented", "b1", "k",
     false},
    {"GET", LH, "/b1/k", "torrent", false, COF_OK, "NotImplemented", "b1", "k", false},
    {"POST", LH, "/b1/k", NULL, false, COF_OK, "NotImplemented", "b1", "k", false},
    {"PATCH", LH, "/b1/k", NULL, false, COF_OK, "MethodNotAllowed", "b1", "k", false},
    /* virtual host */
    {"GET", VH, "/", NULL, false, COF_OK, "ListObjects", "b1", NULL, true},
    {"GET", VH, "/", "list-type=2", false, COF_OK, "ListObjectsV2", "b1", NULL, true},
    {"PUT", VH, "/", NULL, false, COF_OK, "CreateBucket", "b1", NULL, true},
    {"PUT", VH, "/k", NULL, false, COF_OK, "PutObject", "b1", "k", true},
    {"GET", VH, "/b2/k", NULL, false, COF_OK, "GetObject", "b1", "b2/k", true},
    {"GET", VH, "//k", NULL, false, COF_OK, "GetObject", "b1", "/k", true},
    {"GET", "b1.s3.amazonaws.com", "/k", NULL, false, COF_OK, "GetObject", "b1", "k", true},
    {"GET", "b1.s3.us-east-1.amazonaws.com", "/k", NULL, false, COF_OK, "GetObject", "b1", "k",
     true},
    {"GET", "B1.S3.Amazonaws.COM", "/k", NULL, false, COF_OK, "GetObject", "b1", "k", true},
    {"GET", "b1.s3.amazonaws.com.", "/k", NULL, false, COF_OK, "GetObject", "b1", "k", true},
    {"GET", "my.dotted.bucket.s3.localhost.localstack.cloud", "/k", NULL, false, COF_OK,
     "GetObject", "my.dotted.bucket", "k", true},
    {"GET", "data.s3.backup.s3.us-west-2.amazonaws.com", "/k", NULL, false, COF_OK, "GetObject",
     "data.s3.backup", "k", true},
    {"GET", "b1.localhost:4566", "/k", NULL, false, COF_OK, "GetObject", "b1", "k", true},
    {"GET", "b1.localhost", "/", NULL, false, COF_OK, "ListObjects", "b1", NULL, true},
    {"DELETE", "b1.localhost", "/", "encryption", false, COF_OK, "DeleteBucketEncryption", "b1",
     NULL, true},
    {"GET", "b1.s3.localhost.localstack.cloud", "/%F0%9F%98%80", NULL, false, COF_OK, "GetObject",
     "b1", "\xf0\x9f\x98\x80", true},
    /* hosts that are path style */
    {"GET", "localhost", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k", false},
    {"GET", "127.0.0.1:4566", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k", false},
    {"GET", "[::1]:4566", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k", false},
    {"GET", "localhost.localstack.cloud:4566", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k",
     false},
    {"GET", "s3.us-east-1.amazonaws.com", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k",
     false},
    {"GET", ".s3.amazonaws.com", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k", false},
    {"GET", ".localhost", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k", false},
    {"GET", "b1.s3-website.localhost.localstack.cloud", "/b2/k", NULL, false, COF_OK, "GetObject",
     "b2", "k", false},
    {"GET", "mys3bucket.example.com", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k", false},
    {"GET", "minio:9000", "/b1/k", NULL, false, COF_OK, "GetObject", "b1", "k", false},
    {"GET", "", "/b1", NULL, false, COF_OK, "ListObjects", "b1", NULL, false},
    /* LocalStack internal endpoints */
    {"GET", LH, "/_localstack/health", NULL, false, COF_OK, "LocalstackHealth", NULL, NULL, false},
    {"HEAD", LH, "/_localstack/health", NULL, false, COF_OK, "LocalstackHealth", NULL, NULL, false},
    {"GET", LH, "/_localstack/health", "reload", false, COF_OK, "LocalstackHealth", NULL, NULL,
     false},
    {"GET", VH, "/_localstack/health", NULL, false, COF_OK, "LocalstackHealth", NULL, NULL, false},
    {"POST", LH, "/_localstack/health", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL, false},
    {"PUT", LH, "/_localstack/health", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL, false},
    {"GET", LH, "/_localstack/info", NULL, false, COF_OK, "LocalstackInfo", NULL, NULL, false},
    {"DELETE", LH, "/_localstack/info", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL, false},
    {"GET", LH, "/_localstack/init", NULL, false, COF_OK, "LocalstackInit", NULL, NULL, false},
    {"POST", LH, "/_localstack/init/ready", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL,
     false},
    {"POST", LH, "/_localstack/state/reset", NULL, false, COF_OK, "LocalstackReset", NULL, NULL,
     false},
    {"POST", LH, "/_localstack/state/s3/reset", NULL, false, COF_OK, "LocalstackReset", NULL, NULL,
     false},
    {"POST", LH, "/moto-api/reset", NULL, false, COF_OK, "LocalstackReset", NULL, NULL, false},
    {"OPTIONS", LH, "/moto-api/reset", NULL, false, COF_OK, "LocalstackPreflight", NULL, NULL,
     false},
    {"OPTIONS", LH, "/_localstack/health", NULL, false, COF_OK, "LocalstackPreflight", NULL, NULL,
     false},
    {"OPTIONS", LH, "/_localstack/init/ready", NULL, false, COF_OK, "LocalstackPreflight", NULL,
     NULL, false},
    {"OPTIONS", LH, "/_localstack/nothing", NULL, false, COF_OK, "PreflightRequest", "_localstack",
     "nothing", false},
    {"GET", LH, "/moto-api/reset", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL, false},
    {"GET", LH, "/_localstack/state/reset", NULL, false, COF_OK, "MethodNotAllowed", NULL, NULL,
     false},
    /* not LocalStack endpoints: fall through to S3 routing */
    {"GET", LH, "/_localstack/healthz", NULL, false, COF_OK, "GetObject", "_localstack", "healthz",
     false},
    {"GET", LH, "/_localstack", NULL, false, COF_OK, "ListObjects", "_localstack", NULL, false},
    {"POST", LH, "/_localstack/state/sqs/reset", NULL, false, COF_OK, "NotImplemented",
     "_localstack", "state/sqs/reset", false},
    /* errors */
    {"GET", LH, "", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "b1/k", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "*", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "http://h/b1/k", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "//k", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/b1/%", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/b1/a%2", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/b1/a%zz", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/b%1/k", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/b1/a%00b", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/b1/%FF", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/b1/%C0%AF", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/b1/%ED%A0%80", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", LH, "/%FF/k", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", VH, "/%", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
    {"GET", "b\xff.s3.amazonaws.com", "/k", NULL, false, COF_ERR_INVALID, "None", NULL, NULL,
     false},
    {"GET", LH, "/_localstack/init/%zz", NULL, false, COF_ERR_INVALID, "None", NULL, NULL, false},
};

static void check_case(size_t i, const struct route_case *c)
{
    struct srv_query q = {NULL, 0};
    struct srv_route r;
    const struct srv_op *op = NULL;
    CHECK_EQ_INT(srv_query_parse(c->query, &q), COF_OK);
    cof_err err = srv_optable_route(c->method, c->host, c->path, &q, c->copy, NULL, &r, &op);
    const char *name = op != NULL ? op->name : "None";
    if (err != c->err || strcmp(name, c->op) != 0)
        fprintf(stderr, "case %zu: %s %s%s: err %s op %s\n", i, c->method, c->path,
                c->query ? c->query : "", cof_err_name(err), name);
    CHECK_EQ_INT(err, c->err);
    CHECK_EQ_STR(name, c->op);
    if (c->bucket != NULL)
        CHECK_EQ_STR(r.bucket, c->bucket);
    else
        CHECK(r.bucket == NULL);
    if (c->key != NULL)
        CHECK_EQ_STR(r.key, c->key);
    else
        CHECK(r.key == NULL);
    CHECK_EQ_INT(r.virtual_host, c->vhost);
    if (strcmp(name, "LocalstackInit") != 0)
        CHECK(r.ls_stage == NULL);
    srv_route_cleanup(&r);
    CHECK(r.bucket == NULL && r.key == NULL);
    srv_query_cleanup(&q);
}

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(i, &cases[i]);
}

static void test_ls_init(void)
{
    static const struct {
        const char *path;
        const char *stage;
    } st[] = {
        {"/_localstack/init", NULL},
        {"/_localstack/init/ready", "ready"},
        {"/_localstack/init/READY", "ready"},
        {"/_localstack/init/Boot", "boot"},
        {"/_localstack/init/%52eady", "ready"},
        {"/_localstack/init/", ""},
        {"/_localstack/init/ready/", "ready/"},
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        struct srv_route r;
        const struct srv_op *op = NULL;
        CHECK_EQ_INT(srv_optable_route("GET", "localhost", st[i].path, NULL, false, NULL, &r, &op),
                     COF_OK);
        CHECK(op != NULL && strcmp(op->name, "LocalstackInit") == 0);
        if (st[i].stage != NULL)
            CHECK_EQ_STR(r.ls_stage, st[i].stage);
        else
            CHECK(r.ls_stage == NULL);
        CHECK(r.bucket == NULL && r.key == NULL);
        srv_route_cleanup(&r);
    }
}

static void test_key_length(void)
{
    struct cof_buf b;
    struct srv_route r;
    const struct srv_op *op = NULL;
    cof_buf_init(&b, 8192);
    CHECK_EQ_INT(cof_buf_puts(&b, "/b1/"), COF_OK);
    cof_err berr = COF_OK;
    for (int i = 0; i < 1024 && berr == COF_OK; i++)
        berr = cof_buf_puts(&b, "k");
    CHECK_EQ_INT(berr, COF_OK);
    CHECK_EQ_INT(srv_optable_route("PUT", NULL, b.data, NULL, false, NULL, &r, &op), COF_OK);
    CHECK_EQ_INT(strlen(r.key), 1024);
    srv_route_cleanup(&r);
    CHECK_EQ_INT(cof_buf_puts(&b, "k"), COF_OK);
    CHECK_EQ_INT(srv_optable_route("PUT", NULL, b.data, NULL, false, NULL, &r, &op),
                 COF_ERR_KEY_TOO_LONG);
    CHECK(r.bucket == NULL && r.key == NULL && op == NULL);
    /* the limit is on decoded bytes: 1024 x "%41" is 3072 raw bytes but a 1024-byte key */
    cof_buf_reset(&b);
    CHECK_EQ_INT(cof_buf_puts(&b, "/"), COF_OK);
    for (int i = 0; i < 1024 && berr == COF_OK; i++)
        berr = cof_buf_puts(&b, "%41");
    CHECK_EQ_INT(berr, COF_OK);
    CHECK_EQ_INT(
        srv_optable_route("GET", "b1.s3.amazonaws.com", b.data, NULL, false, NULL, &r, &op),
        COF_OK);
    CHECK_EQ_INT(strlen(r.key), 1024);
    srv_route_cleanup(&r);
    CHECK_EQ_INT(cof_buf_puts(&b, "%C3%A9"), COF_OK);
    CHECK_EQ_INT(
        srv_optable_route("GET", "b1.s3.amazonaws.com", b.data, NULL, false, NULL, &r, &op),
        COF_ERR_KEY_TOO_LONG);
    cof_buf_cleanup(&b);
    srv_route_cleanup(NULL);
}

/* Every row has a name and a finish handler; a streamed row has begin and body. */
static void check_row(const struct srv_op *op, void *arg)
{
    size_t *n = arg;
    (*n)++;
    CHECK(op->name != NULL && op->name[0] != '\0');
    CHECK(op->finish != NULL && op->stream != NULL);
    if (op->body == SRV_BODY_STREAM)
        CHECK(op->stream->begin != NULL && op->stream->body != NULL);
    if (op->body == SRV_BODY_BUFFER)
        CHECK(op->body_cap > 0);
    CHECK(op->match.scopes != 0 && op->match.methods != 0);
}

static void test_rows(void)
{
    size_t n = 0;
    srv_optable_each(check_row, &n);
    CHECK(n > 50);
}

struct name_case {
    const char *name;
    bool ok;
};

static const struct name_case names[] = {
    {"abc", true},
    {"my-bucket", true},
    {"my.bucket.name", true},
    {"a1b", true},
    {"111", true},
    {"1.2.3", true},
    {"1.2.3.4.5", true},
    {"xn-abc", true},
    {"sthree", true},
    {"bucket-s3alias-x", true},
    {"a-.b", true}, /* no rule against dash next to dot in the current AWS list */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true}, /* 63 */
    {"", false},
    {"ab", false},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, /* 64 */
    {"My-Bucket", false},
    {"my_bucket", false},
    {"my bucket", false},
    {"-bucket", false},
    {"bucket-", false},
    {".bucket", false},
    {"bucket.", false},
    {"my..bucket", false},
    {"192.168.5.4", false},
    {"1.1.1.1", false},
    {"999.999.999.999", false},
    {"xn--bucket", false},
    {"sthree-bucket", false},
    {"sthree-configurator", false},
    {"amzn-s3-demo-bucket", false},
    {"bucket-s3alias", false},
    {"bucket--ol-s3", false},
    {"bucket.mrap", false},
    {"bucket--x-s3", false},
    {"bucket--table-s3", false},
    {"b\xc3\xa9ucket", false},
    {"buck/et", false},
    {"buck%et", false},
};

static void test_bucket_names(void)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        cof_err err = srv_bucket_name_check(names[i].name);
        if ((err == COF_OK) != names[i].ok)
            fprintf(stderr, "bucket name \"%s\": %s\n", names[i].name, cof_err_name(err));
        CHECK_EQ_INT(err, names[i].ok ? COF_OK : COF_ERR_BAD_BUCKET_NAME);
    }
}

/* Other services on the port: which signals make "/" a JSON or Query protocol request, and
 * that a bucket or object path never is one. */
static void test_service_signals(void)
{
    static const struct {
        const char *method, *path, *query, *target;
        bool form;
        const char *scope_service;
        const char *op;
        bool query_action, in_body;
    } c[] = {
        {"POST", "/", NULL, NULL, false, NULL, "MethodNotAllowed", false, false},
        {"GET", "/", NULL, NULL, false, "sts", "ListBuckets", false, false},
        {"GET", "/", NULL, NULL, true, NULL, "ListBuckets", false, false},
        {"POST", "/", NULL, NULL, true, NULL, "QueryForm", true, true},
        {"POST", "/", NULL, NULL, false, "sts", "QueryForm", true, true},
        {"POST", "/", NULL, NULL, false, "s3", "MethodNotAllowed", false, false},
        {"POST", "/", NULL, NULL, false, "", "MethodNotAllowed", false, false},
        {"GET", "/", "Action=GetCallerIdentity", NULL, false, NULL, "GetCallerIdentity", true,
         false},
        {"POST", "/", "Action=AssumeRole", NULL, true, NULL, "AssumeRole", true, false},
        {"GET", "/", "Action=Foo", NULL, false, NULL, "InvalidAction", true, false},
        {"HEAD", "/", "Action=GetCallerIdentity", NULL, false, NULL, "MethodNotAllowed", false,
         false},
        {"DELETE", "/", "Action=GetCallerIdentity", NULL, false, NULL, "MethodNotAllowed", false,
         false},
        /* X-Amz-Target wins over a query Action, and is never taken for one. */
        {"POST", "/", "Action=GetCallerIdentity", "GetCallerIdentity", true, NULL,
         "MethodNotAllowed", false, false},
        {"GET", "/", NULL, "TrentService.ListKeys", false, NULL, "ListBuckets", false, false},
        /* S3 paths keep their meaning whatever the signals. */
        {"POST", "/b1", "delete&Action=GetCallerIdentity", "GetCallerIdentity", true, "sts",
         "DeleteObjects", false, false},
        {"POST", "/b1", NULL, NULL, true, "sts", "PostObject", false, false},
        {"GET", "/b1", "Action=GetCallerIdentity", NULL, false, "sts", "ListObjects", false, false},
        {"POST", "/b1/k", "uploads&Action=AssumeRole", NULL, true, NULL, "CreateMultipartUpload",
         false, false},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct srv_query q = {NULL, 0};
        struct srv_route r;
        const struct srv_op *op = NULL;
        struct srv_route_signals sig = {c[i].target, c[i].form, c[i].scope_service};
        CHECK_EQ_INT(srv_query_parse(c[i].query, &q), COF_OK);
        CHECK_EQ_INT(
            srv_optable_route_signals(c[i].method, LH, c[i].path, &q, false, &sig, &r, &op),
            COF_OK);
        if (op == NULL || strcmp(op->name, c[i].op) != 0)
            fprintf(stderr, "signals case %zu: got %s\n", i, op != NULL ? op->name : "None");
        CHECK(op != NULL && strcmp(op->name, c[i].op) == 0);
        CHECK_EQ_INT(r.query_action, c[i].query_action);
        CHECK_EQ_INT(r.action_in_body, c[i].in_body);
        srv_route_cleanup(&r);
        srv_query_cleanup(&q);
    }
}

/* The form body's Action decides the row; without one, POST / is what it always was. */
static void test_rematch(void)
{
    static const struct {
        const char *action, *op;
    } c[] = {
        {"GetCallerIdentity", "GetCallerIdentity"},
        {"GetSessionToken", "GetSessionToken"},
        {"Foo", "InvalidAction"},
        {"", "InvalidAction"},
        {"TrentService.ListKeys", "InvalidAction"},
        {NULL, "MethodNotAllowed"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct srv_route r;
        const struct srv_op *op = NULL;
        struct srv_route_signals sig = {NULL, true, NULL};
        CHECK_EQ_INT(srv_optable_route_signals("POST", LH, "/", NULL, false, &sig, &r, &op),
                     COF_OK);
        CHECK_EQ_STR(op->name, "QueryForm");
        op = srv_optable_rematch(&r, c[i].action);
        CHECK_EQ_STR(op->name, c[i].op);
        CHECK(!r.action_in_body);
        CHECK_EQ_INT(op->flags & OPF_QUERY ? 1 : 0, c[i].action != NULL ? 1 : 0);
        srv_route_cleanup(&r);
    }
}

int main(void)
{
    test_table();
    test_service_signals();
    test_rematch();
    test_ls_init();
    test_key_length();
    test_rows();
    test_bucket_names();
    return check_finish();
}
