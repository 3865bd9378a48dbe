// The JavaScript SDK v3 (latest from npm) with its own IfNoneMatch / IfMatch parameters on
// PutObject, CopyObject and CompleteMultipartUpload, and a repeated Complete. Prints one JSON
// object with what it saw; test_conditional_writes.py asserts on it.
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, CopyObjectCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
} from "@aws-sdk/client-s3";

const endpoint = process.argv[2];
const bucket = process.argv[3];
const s3 = new S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});
const out = {};

// What a call gave: "ok" with some fields, or the HTTP status and the error code.
async function attempt(cmd, pick = (r) => ({ etag: r.ETag })) {
  try {
    return { ok: true, ...pick(await s3.send(cmd)) };
  } catch (e) {
    return { ok: false, status: e.$metadata?.httpStatusCode, code: e.name };
  }
}

await s3.send(new CreateBucketCommand({ Bucket: bucket }));

// 16 clients take one lock with If-None-Match: * (Terraform's S3 state lock).
const lock = await Promise.all(Array.from({ length: 16 }, (_, i) => attempt(
  new PutObjectCommand({ Bucket: bucket, Key: "lock", Body: `holder ${i}`, IfNoneMatch: "*" }))));
out.lock = lock;
const held = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "lock" }));
out.lockBody = await held.Body.transformToString();

// If-Match: compare-and-swap from the current ETag, 16 at once.
const base = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "doc", Body: "v0" }));
out.cas = await Promise.all(Array.from({ length: 16 }, (_, i) => attempt(
  new PutObjectCommand({ Bucket: bucket, Key: "doc", Body: `v${i + 1}`, IfMatch: base.ETag }))));
out.casMissing = await attempt(
  new PutObjectCommand({ Bucket: bucket, Key: "absent", Body: "x", IfMatch: base.ETag }));

// CopyObject onto an existing key with If-None-Match: *.
out.copy = await attempt(new CopyObjectCommand({
  Bucket: bucket, Key: "doc", CopySource: `${bucket}/lock`, IfNoneMatch: "*" }));

// A conditional multipart Complete, then its retry.
const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "mp" }));
const part = await s3.send(new UploadPartCommand({
  Bucket: bucket, Key: "mp", UploadId: mpu.UploadId, PartNumber: 1, Body: "the only part" }));
const complete = () => new CompleteMultipartUploadCommand({
  Bucket: bucket, Key: "mp", UploadId: mpu.UploadId, IfNoneMatch: "*",
  MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
});
out.complete = await attempt(complete());
out.completeAgain = await attempt(complete());

console.log(JSON.stringify(out));
