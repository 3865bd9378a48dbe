// @aws-sdk/client-sts against coffer: GetCallerIdentity, AssumeRole, then S3 and STS with the
// temporary credentials (a session token the server must accept when it checks signatures),
// and AWS's errors as the SDK surfaces them. Prints one JSON object; test_sts.py asserts on it.
import {
  STSClient, GetCallerIdentityCommand, AssumeRoleCommand, GetSessionTokenCommand,
} from "@aws-sdk/client-sts";
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, DeleteObjectCommand,
  DeleteBucketCommand,
} from "@aws-sdk/client-s3";

const endpoint = process.argv[2];
const bucket = process.argv[3];
const base = { endpoint, region: "us-east-1", maxAttempts: 1 };
const root = { accessKeyId: "test", secretAccessKey: "test" };
const sts = new STSClient({ ...base, credentials: root });
const out = {};

const me = await sts.send(new GetCallerIdentityCommand({}));
out.identity = { account: me.Account, arn: me.Arn, userId: me.UserId };

const ar = await sts.send(new AssumeRoleCommand({
  RoleArn: "arn:aws:iam::000000000000:role/js-role", RoleSessionName: "js-session",
  DurationSeconds: 1200,
}));
const c = ar.Credentials;
out.assumed = {
  accessKeyId: c.AccessKeyId, secretLength: c.SecretAccessKey.length,
  tokenLength: c.SessionToken.length, expiresIn: Math.round((c.Expiration - Date.now()) / 1000),
  arn: ar.AssumedRoleUser.Arn, roleId: ar.AssumedRoleUser.AssumedRoleId,
};
const temp = {
  accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken,
};
const asRole = await new STSClient({ ...base, credentials: temp })
  .send(new GetCallerIdentityCommand({}));
out.roleIdentity = { account: asRole.Account, arn: asRole.Arn };

const s3 = new S3Client({ ...base, forcePathStyle: true, credentials: temp });
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "k", Body: "from a role" }));
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "k" }));
out.s3Body = await got.Body.transformToString();

// Without the token the same key pair is unknown.
const noToken = new S3Client({
  ...base, forcePathStyle: true,
  credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey },
});
try {
  await noToken.send(new GetObjectCommand({ Bucket: bucket, Key: "k" }));
  out.noToken = "accepted";
} catch (e) {
  out.noToken = { name: e.name, status: e.$metadata.httpStatusCode };
}
await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "k" }));
await s3.send(new DeleteBucketCommand({ Bucket: bucket }));

// AWS's errors through the SDK: session credentials cannot get a session token.
try {
  await new STSClient({ ...base, credentials: temp }).send(new GetSessionTokenCommand({}));
  out.sessionTokenWithSession = "accepted";
} catch (e) {
  out.sessionTokenWithSession = { name: e.name, status: e.$metadata.httpStatusCode,
                                  message: e.message };
}
console.log(JSON.stringify(out));
