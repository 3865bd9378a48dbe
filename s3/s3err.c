/* SPDX-License-Identifier: Apache-2.0 */
/* cof_err -> HTTP status and S3 error code, as AWS S3 returns them
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). */
#include "s3/s3err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct srv_s3err table[COF_ERR__COUNT] = {
    [COF_ERR_NOMEM] = {503, "SlowDown", "Please reduce your request rate."},
    [COF_ERR_IO] = {500, "InternalError", "We encountered an internal error. Please try again."},
    [COF_ERR_DB] = {500, "InternalError", "We encountered an internal error. Please try again."},
    [COF_ERR_INTEGRITY] = {500, "InternalError",
                           "We encountered an internal error. Please try again."},
    [COF_ERR_KEY] = {500, "InternalError", "We encountered an internal error. Please try again."},
    [COF_ERR_TOO_LARGE] = {400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against "
                           "our published schema"},
    [COF_ERR_INVALID] = {400, "InvalidRequest", "Invalid Request"},
    [COF_ERR_NOT_FOUND] = {404, "NoSuchKey", "The specified key does not exist."},
    [COF_ERR_CONFIG] = {500, "InternalError",
                        "We encountered an internal error. Please try again."},
    [COF_ERR_INTERNAL] = {500, "InternalError",
                          "We encountered an internal error. Please try again."},
    [COF_ERR_NO_BUCKET] = {404, "NoSuchBucket", "The specified bucket does not exist"},
    [COF_ERR_NO_OBJECT] = {404, "NoSuchKey", "The specified key does not exist."},
    [COF_ERR_BUCKET_EXISTS] = {409, "BucketAlreadyOwnedByYou",
                               "Your previous request to create the named bucket succeeded and you "
                               "already own it."},
    [COF_ERR_BUCKET_TAKEN] = {409, "BucketAlreadyExists",
                              "The requested bucket name is not available. The bucket namespace "
                              "is shared by all users of the system. Please select a different "
                              "name and try again."},
    [COF_ERR_BUCKET_NOT_EMPTY] = {409, "BucketNotEmpty",
                                  "The bucket you tried to delete is not empty"},
    [COF_ERR_BAD_BUCKET_NAME] = {400, "InvalidBucketName", "The specified bucket is not valid."},
    [COF_ERR_KEY_TOO_LONG] = {400, "KeyTooLongError", "Your key is too long"},
    [COF_ERR_MALFORMED_XML] = {400, "MalformedXML",
                               "The XML you provided was not well-formed or did not validate "
                               "against our published schema"},
    [COF_ERR_BAD_DIGEST] = {400, "BadDigest",
                            "The Content-MD5 you specified did not match what we received."},
    [COF_ERR_INVALID_DIGEST] = {400, "InvalidDigest",
                                "The Content-MD5 you specified is not valid."},
    [COF_ERR_INVALID_ARGUMENT] = {400, "InvalidArgument", "Invalid Argument"},
    [COF_ERR_INVALID_REQUEST] = {400, "InvalidRequest", "Invalid Request"},
    [COF_ERR_INVALID_RANGE] = {416, "InvalidRange", "The requested range is not satisfiable"},
    [COF_ERR_PRECONDITION] = {412, "PreconditionFailed",
                              "At least one of the pre-conditions you specified did not hold"},
    [COF_ERR_NOT_MODIFIED] = {304, "NotModified", "Not Modified"},
    [COF_ERR_NOT_IMPLEMENTED] = {501, "NotImplemented",
                                 "A header you provided implies functionality that is not "
                                 "implemented"},
    [COF_ERR_METHOD_NOT_ALLOWED] = {405, "MethodNotAllowed",
                                    "The specified method is not allowed against this resource."},
    [COF_ERR_AUTH_MALFORMED] = {400, "AuthorizationHeaderMalformed",
                                "The authorization header is malformed."},
    [COF_ERR_MISSING_LENGTH] = {411, "MissingContentLength",
                                "You must provide the Content-Length HTTP header."},
    [COF_ERR_ENTITY_TOO_LARGE] = {400, "EntityTooLarge",
                                  "Your proposed upload exceeds the maximum allowed size"},
    [COF_ERR_INCOMPLETE_BODY] = {400, "IncompleteBody",
                                 "You did not provide the number of bytes specified by the "
                                 "Content-Length HTTP header"},
    [COF_ERR_BAD_LOCATION] = {400, "InvalidLocationConstraint",
                              "The specified location-constraint is not valid"},
    [COF_ERR_LOCATION_MISMATCH] = {400, "IllegalLocationConstraintException",
                                   "The unspecified location constraint is incompatible for the "
                                   "region specific endpoint this request was sent to."},
    [COF_ERR_INVALID_COPY] = {400, "InvalidRequest",
                              "This copy request is illegal because it is trying to copy an object "
                              "to itself without changing the object's metadata, storage class, "
                              "website redirect location or encryption attributes."},
    [COF_ERR_BAD_COPY_SOURCE] = {400, "InvalidArgument", "Invalid copy source object key"},
    [COF_ERR_BAD_ENCRYPTION] = {400, "InvalidArgument",
                                "The encryption method specified is not supported"},
    [COF_ERR_NO_SUCH_UPLOAD] = {404, "NoSuchUpload",
                                "The specified upload does not exist. The upload ID may be "
                                "invalid, or the upload may have been aborted or completed."},
    [COF_ERR_SERVICE_UNAVAILABLE] = {503, "ServiceUnavailable", "Please reduce your request rate."},
    [COF_ERR_METADATA_TOO_LARGE] = {400, "MetadataTooLarge",
                                    "Your metadata headers exceed the maximum allowed metadata "
                                    "size."},
    [COF_ERR_BAD_CONTINUATION] = {400, "InvalidArgument",
                                  "The continuation token provided is incorrect"},
    [COF_ERR_UNSUPPORTED_AUTH] = {400, "InvalidArgument", "Unsupported Authorization Type"},
    [COF_ERR_ACCESS_DENIED] = {403, "AccessDenied", "Access Denied"},
    [COF_ERR_EXISTS] = {409, "AlreadyExistsException", "The name is already in use"},
    [COF_ERR_KMS_NOT_FOUND] = {400, "KMS.NotFoundException", "Invalid keyId"},
    [COF_ERR_KMS_DISABLED] = {400, "KMS.DisabledException", "The key is disabled."},
    [COF_ERR_KMS_INVALID_STATE] = {400, "KMS.KMSInvalidStateException",
                                   "The key is pending deletion."},
    [COF_ERR_INVALID_PART] = {400, "InvalidPart",
                              "One or more of the specified parts could not be found.  The part "
                              "may not have been uploaded, or the specified entity tag may not "
                              "match the part's entity tag."},
    [COF_ERR_INVALID_PART_ORDER] = {400, "InvalidPartOrder",
                                    "The list of parts was not in ascending order. Parts must be "
                                    "ordered by part number."},
    [COF_ERR_ENTITY_TOO_SMALL] = {400, "EntityTooSmall",
                                  "Your proposed upload is smaller than the minimum allowed "
                                  "object size."},
    [COF_ERR_INVALID_PART_NUMBER] = {416, "InvalidPartNumber",
                                     "The requested partnumber is not satisfiable"},
    [COF_ERR_SIGNATURE_MISMATCH] = {403, "SignatureDoesNotMatch",
                                    "The request signature we calculated does not match the "
                                    "signature you provided. Check your key and signing method."},
    [COF_ERR_INVALID_ACCESS_KEY] = {403, "InvalidAccessKeyId",
                                    "The AWS Access Key Id you provided does not exist in our "
                                    "records."},
    [COF_ERR_EXPIRED] = {403, "AccessDenied", "Request has expired"},
    [COF_ERR_TIME_SKEWED] = {403, "RequestTimeTooSkewed",
                             "The difference between the request time and the current time is too "
                             "large."},
    [COF_ERR_SHA256_MISMATCH] = {400, "XAmzContentSHA256Mismatch",
                                 "The provided 'x-amz-content-sha256' header does not match what "
                                 "was computed."},
    [COF_ERR_QUERY_AUTH] = {400, "AuthorizationQueryParametersError",
                            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                            "and X-Amz-Expires parameters."},
    [COF_ERR_NO_SUCH_VERSION] = {404, "NoSuchVersion", "The specified version does not exist."},
    [COF_ERR_INVALID_POLICY] = {400, "InvalidPolicyDocument",
                                "The content of the form does not meet the conditions specified "
                                "in the policy document."},
    [COF_ERR_MALFORMED_POST] = {400, "MalformedPOSTRequest",
                                "The body of your POST request is not well-formed "
                                "multipart/form-data."},
    /* AWS's wording, spelling included (captures 2013-2020) */
    [COF_ERR_POST_PRE_DATA] = {400, "MaxPostPreDataLengthExceeded",
                               "Your POST request fields preceeding the upload file was too "
                               "large."},
    [COF_ERR_SLOW_DOWN] = {503, "SlowDown", "Please reduce your request rate."},
    /* not AWS's: coffer's own switch, so the message says how to turn it on */
    [COF_ERR_ADMIN_DISABLED] = {403, "AccessDenied",
                                "This endpoint changes the server state and is disabled. Start "
                                "coffer with --admin-endpoints (config admin_endpoints = on, "
                                "environment COFFER_ADMIN_ENDPOINTS=1) to enable it."},
    /* answered in the service's own words (srv_fail_service); this row is only a fallback */
    [COF_ERR_SERVICE] = {400, "InvalidRequest", "The request is not valid."},
    [COF_ERR_EXPIRES_NEGATIVE] = {400, "AuthorizationQueryParametersError",
                                  "X-Amz-Expires must be non-negative"},
    [COF_ERR_EXPIRES_TOO_LONG] = {400, "AuthorizationQueryParametersError",
                                  "X-Amz-Expires must be less than a week (in seconds) that is "
                                  "604800"},
    [COF_ERR_OBJECT_LOCKED] = {403, "AccessDenied",
                               "Access Denied because object protected by object lock."},
    [COF_ERR_NO_LOCK_CONFIG] = {404, "ObjectLockConfigurationNotFoundError",
                                "Object Lock configuration does not exist for this bucket"},
    [COF_ERR_NO_OBJECT_LOCK] = {404, "NoSuchObjectLockConfiguration",
                                "The specified object does not have a ObjectLock configuration"},
    [COF_ERR_INVALID_BUCKET_STATE] = {409, "InvalidBucketState",
                                      "The request is not valid with the current state of the "
                                      "bucket."},
    [COF_ERR_TOKEN_INVALID] = {400, "InvalidToken",
                               "The provided token is malformed or otherwise invalid."},
    [COF_ERR_TOKEN_EXPIRED] = {400, "ExpiredToken", "The provided token has expired."},
    [COF_ERR_CONDITIONAL_CONFLICT] = {409, "ConditionalRequestConflict",
                                      "The conditional request cannot succeed due to a "
                                      "conflicting operation against this resource."},
    [COF_ERR_BAD_ENCRYPTION_ALG] = {400, "InvalidEncryptionAlgorithmError",
                                    "The Encryption request you specified is not valid. Supported "
                                    "value: AES256."},
    [COF_ERR_INVALID_TAG] = {400, "InvalidTag",
                             "The tag provided was not a valid tag. This error can occur if the "
                             "tag did not pass input validation."},
    [COF_ERR_BAD_REQUEST] = {400, "BadRequest", "Bad Request"},
    [COF_ERR_NO_TAG_SET] = {404, "NoSuchTagSet", "The TagSet does not exist"},
    [COF_ERR_MALFORMED_POLICY] = {400, "MalformedPolicy", "This policy contains invalid Json"},
    [COF_ERR_NO_SUCH_POLICY] = {404, "NoSuchBucketPolicy", "The bucket policy does not exist"},
    [COF_ERR_NO_CORS] = {404, "NoSuchCORSConfiguration", "The CORS configuration does not exist"},
    [COF_ERR_NO_WEBSITE] = {404, "NoSuchWebsiteConfiguration",
                            "The specified bucket does not have a website configuration"},
    [COF_ERR_NO_REPLICATION] = {404, "ReplicationConfigurationNotFoundError",
                                "The replication configuration was not found"},
    [COF_ERR_BAD_LOG_TARGET] = {400, "InvalidTargetBucketForLogging",
                                "The target bucket for logging does not exist"},
    [COF_ERR_NO_LIFECYCLE] = {404, "NoSuchLifecycleConfiguration",
                              "The lifecycle configuration does not exist"},
    [COF_ERR_ACL_NOT_SUPPORTED] = {400, "AccessControlListNotSupported",
                                   "The bucket does not allow ACLs"},
    [COF_ERR_ACL_OWNERSHIP] = {400, "InvalidBucketAclWithObjectOwnership",
                               "Bucket cannot have ACLs set with ObjectOwnership's "
                               "BucketOwnerEnforced setting"},
    [COF_ERR_MALFORMED_ACL] = {400, "MalformedACLError",
                               "The XML you provided was not well-formed or did not validate "
                               "against our published schema"},
    [COF_ERR_NO_OWNERSHIP] = {404, "OwnershipControlsNotFoundError",
                              "The bucket ownership controls were not found"},
    [COF_ERR_NO_PUBLIC_BLOCK] = {404, "NoSuchPublicAccessBlockConfiguration",
                                 "The public access block configuration was not found"},
    [COF_ERR_MISSING_SECURITY_HDR] = {400, "MissingSecurityHeader",
                                      "Your request was missing a required header"},
    [COF_ERR_UNEXPECTED_CONTENT] = {400, "UnexpectedContent",
                                    "This request does not support content"},
    [COF_ERR_UNRESOLVABLE_EMAIL] = {400, "UnresolvableGrantByEmailAddress",
                                    "The e-mail address you provided does not match any account "
                                    "on record."},
    [COF_ERR_CORS_FORBIDDEN] = {403, "AccessForbidden",
                                "CORSResponse: This CORS request is not allowed. This is usually "
                                "because the evalution of Origin, request method / "
                                "Access-Control-Request-Method or Access-Control-Request-Headers "
                                "are not whitelisted by the resource's CORS spec."},
    /* The root key that wraps the object's data key (or its KMS key's material) is not in the
     * keyring: the operator's fix (restore the key file) needs no restart, so 503 and KMS's own
     * retryable code, which AWS S3 passes on with the "KMS." prefix. Stable: see README. */
    [COF_ERR_KEY_ABSENT] = {503, "KMS.KeyUnavailableException",
                            "The key that protects this object's data is not available. You can "
                            "retry the request."},
};

static const struct srv_s3err internal = {500, "InternalError",
                                          "We encountered an internal error. Please try again."};

const struct srv_s3err *srv_s3err_lookup(cof_err e)
{
    if ((unsigned)e >= COF_ERR__COUNT || table[e].code == NULL)
        return &internal;
    return &table[e];
}

void srv_problem_init(struct srv_problem *p)
{
    p->code = COF_OK;
    p->message = NULL;
    p->name1 = p->value1 = p->name2 = p->value2 = NULL;
    p->text_len = 0;
    p->text[0] = '\0';
}

cof_err srv_problem_set(struct srv_problem *p, cof_err code, const char *message)
{
    p->code = code;
    p->message = message;
    p->name1 = p->value1 = p->name2 = p->value2 = NULL;
    return code;
}

static const char *vkeep(struct srv_problem *p, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static const char *vkeep(struct srv_problem *p, const char *fmt, va_list ap)
{
    /* text_len < sizeof(text) always: a full text[] still holds the last string's terminator,
     * where a later string starts (and is cut to ""). */
    char *s = p->text + p->text_len;
    size_t room = sizeof(p->text) - p->text_len;
    int n = vsnprintf(s, room, fmt, ap);
    if (n < 0)
        s[0] = '\0';
    else
        p->text_len += (size_t)n + 1 < room ? (size_t)n + 1 : room - 1;
    return s;
}

const char *srv_problem_keep(struct srv_problem *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = vkeep(p, fmt, ap);
    va_end(ap);
    return s;
}

cof_err srv_problem_setf(struct srv_problem *p, cof_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = vkeep(p, fmt, ap);
    va_end(ap);
    return srv_problem_set(p, code, s);
}

void srv_problem_elem(struct srv_problem *p, const char *name, const char *value)
{
    if (name == NULL || value == NULL)
        return;
    if (p->name1 == NULL) {
        p->name1 = name;
        p->value1 = value;
    } else if (p->name2 == NULL) {
        p->name2 = name;
        p->value2 = value;
    } else {
        COF_BUG("srv_problem: a third extra element");
    }
}

cof_err srv_problem_arg(struct srv_problem *p, cof_err code, const char *message,
                        const char *arg_name, const char *arg_value)
{
    srv_problem_set(p, code, message);
    srv_problem_elem(p, "ArgumentName", arg_name);
    srv_problem_elem(p, "ArgumentValue", arg_value);
    return code;
}

cof_err srv_problem_finish(struct srv_problem *p, cof_err err)
{
    if (err != COF_OK && p->code == COF_OK)
        p->code = err;
    return err;
}
