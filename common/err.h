/* SPDX-License-Identifier: Apache-2.0 */
/* cof_err: the one error type every layer returns. Codes name domain outcomes, never HTTP
 * statuses; only server/s3err.c maps them to a status and an S3 <Code>. */
#ifndef COF_ERR_H
#define COF_ERR_H

#include <stdlib.h>

#define COF_MUST_CHECK __attribute__((warn_unused_result))

/* Programmer error (wrong length, NULL where not allowed): abort with a location. Never used to
 * validate input; bad input returns a code. */
#define COF_BUG(msg) cof_bug(__FILE__, __LINE__, (msg))

typedef enum {
    COF_OK = 0,
    /* generic, any layer */
    COF_ERR_NOMEM,
    COF_ERR_IO,        /* file system or socket failure */
    COF_ERR_DB,        /* SQLite failure other than busy/constraint */
    COF_ERR_INTEGRITY, /* authentication failed: tampered, truncated or foreign ciphertext */
    COF_ERR_KEY,       /* wrong key: unwrap failed */
    COF_ERR_TOO_LARGE, /* input over a named cap */
    COF_ERR_INVALID,   /* malformed input with no more specific code */
    COF_ERR_NOT_FOUND, /* generic lookup miss (files, config entries) */
    COF_ERR_CONFIG,    /* bad option or config file */
    COF_ERR_INTERNAL,
    /* storage outcomes */
    COF_ERR_NO_BUCKET,
    COF_ERR_NO_OBJECT,
    COF_ERR_BUCKET_EXISTS, /* owned by us: BucketAlreadyOwnedByYou */
    COF_ERR_BUCKET_TAKEN,  /* owned by another account: BucketAlreadyExists */
    COF_ERR_BUCKET_NOT_EMPTY,
    /* request outcomes (server) */
    COF_ERR_BAD_BUCKET_NAME,
    COF_ERR_KEY_TOO_LONG,
    COF_ERR_MALFORMED_XML,
    COF_ERR_BAD_DIGEST,     /* Content-MD5 did not match the body */
    COF_ERR_INVALID_DIGEST, /* Content-MD5 is not base64 of 16 bytes */
    COF_ERR_INVALID_ARGUMENT,
    COF_ERR_INVALID_REQUEST,
    COF_ERR_INVALID_RANGE,
    COF_ERR_PRECONDITION, /* 412 */
    COF_ERR_NOT_MODIFIED, /* 304 */
    COF_ERR_NOT_IMPLEMENTED,
    COF_ERR_METHOD_NOT_ALLOWED,
    COF_ERR_AUTH_MALFORMED, /* AuthorizationHeaderMalformed */
    COF_ERR_MISSING_LENGTH,
    COF_ERR_ENTITY_TOO_LARGE,
    COF_ERR_INCOMPLETE_BODY,
    COF_ERR_BAD_LOCATION,      /* InvalidLocationConstraint */
    COF_ERR_LOCATION_MISMATCH, /* IllegalLocationConstraintException */
    COF_ERR_INVALID_COPY,      /* copy onto itself without change: InvalidRequest */
    COF_ERR_BAD_COPY_SOURCE,   /* x-amz-copy-source malformed: InvalidArgument */
    COF_ERR_BAD_ENCRYPTION, /* unsupported SSE algorithm: InvalidArgument/InvalidEncryptionAlgorithm
                             */
    COF_ERR_NO_SUCH_UPLOAD,
    COF_ERR_SERVICE_UNAVAILABLE,
    COF_ERR_METADATA_TOO_LARGE,
    COF_ERR_BAD_CONTINUATION,    /* ListObjectsV2 token we did not issue: InvalidArgument */
    COF_ERR_UNSUPPORTED_AUTH,    /* Authorization scheme other than SigV4/SigV2 */
    COF_ERR_ACCESS_DENIED,       /* 403 AccessDenied */
    COF_ERR_BAD_ENCRYPTION_ALG,  /* InvalidEncryptionAlgorithmError */
    COF_ERR_EXISTS,              /* generic: the name is taken (KMS alias) */
    COF_ERR_KMS_NOT_FOUND,       /* KMS.NotFoundException */
    COF_ERR_KMS_DISABLED,        /* KMS.DisabledException */
    COF_ERR_KMS_INVALID_STATE,   /* KMS.KMSInvalidStateException */
    COF_ERR_INVALID_PART,        /* InvalidPart */
    COF_ERR_INVALID_PART_ORDER,  /* InvalidPartOrder */
    COF_ERR_ENTITY_TOO_SMALL,    /* EntityTooSmall */
    COF_ERR_INVALID_PART_NUMBER, /* 416 InvalidPartNumber */
    COF_ERR_SIGNATURE_MISMATCH,  /* 403 SignatureDoesNotMatch */
    COF_ERR_INVALID_ACCESS_KEY,  /* 403 InvalidAccessKeyId */
    COF_ERR_EXPIRED,             /* 403 AccessDenied: Request has expired */
    COF_ERR_TIME_SKEWED,         /* 403 RequestTimeTooSkewed */
    COF_ERR_SHA256_MISMATCH,     /* 400 XAmzContentSHA256Mismatch */
    COF_ERR_QUERY_AUTH,          /* 400 AuthorizationQueryParametersError */
    COF_ERR_INVALID_TAG,         /* 400 InvalidTag */
    COF_ERR_BAD_REQUEST,         /* 400 BadRequest (e.g. too many tags) */
    COF_ERR_NO_TAG_SET,          /* 404 NoSuchTagSet */
    COF_ERR_NO_SUCH_VERSION,     /* 404 NoSuchVersion */
    COF_ERR_MALFORMED_POLICY,    /* 400 MalformedPolicy */
    COF_ERR_NO_SUCH_POLICY,      /* 404 NoSuchBucketPolicy */
    COF_ERR_NO_CORS,             /* 404 NoSuchCORSConfiguration */
    COF_ERR_CORS_FORBIDDEN,      /* 403 AccessForbidden: a CORS preflight refused */
    COF_ERR_INVALID_POLICY,      /* 400 InvalidPolicyDocument (POST Object policy) */
    COF_ERR_MALFORMED_POST,      /* 400 MalformedPOSTRequest (not multipart/form-data) */
    COF_ERR_POST_PRE_DATA,       /* 400 MaxPostPreDataLengthExceeded (fields before the file) */
    COF_ERR_KEY_ABSENT,     /* a root key that stored data needs is not in the keyring (or no usable
                               keyring): 503 KMS.KeyUnavailableException, start-up refusal */
    COF_ERR_SLOW_DOWN,      /* 503 SlowDown: over a connection cap */
    COF_ERR_ADMIN_DISABLED, /* 403 AccessDenied: admin endpoints are off (saying how on) */
    COF_ERR_SERVICE,        /* a JSON/Query service's own error: status and code text recorded with
                             * srv_fail_service (ops/req.h); 400 InvalidRequest elsewhere */
    COF_ERR_TOKEN_INVALID,  /* 400 InvalidToken: a session token that does not open or match */
    COF_ERR_TOKEN_EXPIRED,  /* 400 ExpiredToken: a session token past its expiry */
    COF_ERR_CONDITIONAL_CONFLICT, /* 409 ConditionalRequestConflict (a conditional write raced) */
    COF_ERR_EXPIRES_NEGATIVE,     /* 400 AuthorizationQueryParametersError: X-Amz-Expires < 0 */
    COF_ERR_EXPIRES_TOO_LONG,     /* 400 AuthorizationQueryParametersError: over a week */
    COF_ERR_NO_WEBSITE,           /* 404 NoSuchWebsiteConfiguration */
    COF_ERR_NO_REPLICATION,       /* 404 ReplicationConfigurationNotFoundError */
    COF_ERR_BAD_LOG_TARGET,       /* 400 InvalidTargetBucketForLogging */
    COF_ERR_OBJECT_LOCKED,        /* 403 AccessDenied: the version is under Object Lock */
    COF_ERR_NO_LOCK_CONFIG,       /* 404 ObjectLockConfigurationNotFoundError */
    COF_ERR_NO_OBJECT_LOCK,       /* 404 NoSuchObjectLockConfiguration (a version's) */
    COF_ERR_INVALID_BUCKET_STATE, /* 409 InvalidBucketState */
    COF_ERR_NO_LIFECYCLE,         /* 404 NoSuchLifecycleConfiguration */
    COF_ERR_ACL_NOT_SUPPORTED,    /* 400 AccessControlListNotSupported (BucketOwnerEnforced) */
    COF_ERR_ACL_OWNERSHIP,        /* 400 InvalidBucketAclWithObjectOwnership */
    COF_ERR_MALFORMED_ACL,        /* 400 MalformedACLError */
    COF_ERR_NO_OWNERSHIP,         /* 404 OwnershipControlsNotFoundError */
    COF_ERR_NO_PUBLIC_BLOCK,      /* 404 NoSuchPublicAccessBlockConfiguration */
    COF_ERR_MISSING_SECURITY_HDR, /* 400 MissingSecurityHeader (PutBucketAcl without an ACL) */
    COF_ERR_UNEXPECTED_CONTENT,   /* 400 UnexpectedContent (an ACL both in headers and body) */
    COF_ERR_UNRESOLVABLE_EMAIL,   /* 400 UnresolvableGrantByEmailAddress */
    COF_ERR__COUNT
} cof_err;

/* Stable symbolic name of a code ("COF_ERR_NO_BUCKET"), for logs and tests. */
const char *cof_err_name(cof_err e);

/* Prints msg with file:line to stderr and aborts. */
_Noreturn void cof_bug(const char *file, int line, const char *msg);

#endif
