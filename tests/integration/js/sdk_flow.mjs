// The JavaScript SDK v3 (latest from npm) against coffer: default CRC32 checksums, streamed
// bodies (aws-chunked with a trailing checksum), lib-storage multipart uploads with SSE, and
// SSE-C. Prints one JSON object with what it saw; test_js_sdk.py asserts on it.
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, DeleteObjectCommand, CreateMultipartUploadCommand, UploadPartCommand,
  CompleteMultipartUploadCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Readable } from "node:stream";
import { createHash, randomBytes } from "node:crypto";

const endpoint = process.argv[2];
const bucket = process.argv[3];
const s3 = new S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});
const md5 = (b) => createHash("md5").update(b).digest("hex");
const out = {};

await s3.send(new CreateBucketCommand({ Bucket: bucket }));

// 1. a plain PutObject: the SDK adds x-amz-checksum-crc32 by default
const small = Buffer.from("hello from the javascript sdk");
const p = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "small", Body: small }));
out.small = { etag: p.ETag, crc32: p.ChecksumCRC32, sse: p.ServerSideEncryption };
const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "small", ChecksumMode: "ENABLED" }));
out.small.body = await g.Body.transformToString();
out.small.getCrc32 = g.ChecksumCRC32;

// 2. a streamed body of known length: aws-chunked with a trailing checksum
const streamed = randomBytes(300 * 1024);
await s3.send(new PutObjectCommand({
  Bucket: bucket, Key: "streamed", ContentLength: streamed.length,
  Body: Readable.from([streamed.subarray(0, 100000), streamed.subarray(100000)]),
}));
const gs = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "streamed" }));
const gsBody = Buffer.from(await gs.Body.transformToByteArray());
out.streamed = { equal: Buffer.compare(gsBody, streamed) === 0, md5: md5(streamed),
                 etag: gs.ETag, contentEncoding: gs.ContentEncoding ?? null };

// 3. lib-storage multipart uploads with SSE-S3, SSE-KMS and SSE-C
const big = randomBytes(11 * 1024 * 1024 + 17);
const key = randomBytes(32);
for (const [name, extra, read] of [
  ["mp-s3", {}, {}],
  ["mp-kms", { ServerSideEncryption: "aws:kms", SSEKMSKeyId: "alias/js-sdk" }, {}],
  ["mp-ssec", { SSECustomerAlgorithm: "AES256", SSECustomerKey: key },
   { SSECustomerAlgorithm: "AES256", SSECustomerKey: key }],
]) {
  const up = new Upload({
    client: s3, partSize: 5 * 1024 * 1024, queueSize: 2,
    params: { Bucket: bucket, Key: name, Body: Readable.from([big]), ...extra },
  });
  const r = await up.done();
  const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: name, ...read,
                                                  ChecksumMode: "ENABLED" }));
  const o = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: name, ...read }));
  const body = Buffer.from(await o.Body.transformToByteArray());
  out[name] = { etag: r.ETag, length: h.ContentLength, sse: h.ServerSideEncryption ?? null,
                kmsKey: h.SSEKMSKeyId ?? null, ssecAlg: h.SSECustomerAlgorithm ?? null,
                equal: Buffer.compare(body, big) === 0,
                checksum: { type: h.ChecksumType ?? null, crc32: h.ChecksumCRC32 ?? null,
                            crc64nvme: h.ChecksumCRC64NVME ?? null,
                            uploadCrc32: r.ChecksumCRC32 ?? null,
                            uploadCrc64nvme: r.ChecksumCRC64NVME ?? null,
                            uploadType: r.ChecksumType ?? null } };
}

// 3b. a FULL_OBJECT CRC32 multipart upload: the server combines the part CRCs
{
  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(4321)];
  const c = await s3.send(new CreateMultipartUploadCommand({
    Bucket: bucket, Key: "mp-full", ChecksumAlgorithm: "CRC32", ChecksumType: "FULL_OBJECT" }));
  const done = [];
  for (const [i, part] of parts.entries()) {
    const u = await s3.send(new UploadPartCommand({
      Bucket: bucket, Key: "mp-full", UploadId: c.UploadId, PartNumber: i + 1, Body: part,
      ChecksumAlgorithm: "CRC32" }));
    done.push({ PartNumber: i + 1, ETag: u.ETag, ChecksumCRC32: u.ChecksumCRC32 });
  }
  const r = await s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: "mp-full", UploadId: c.UploadId, ChecksumType: "FULL_OBJECT",
    MultipartUpload: { Parts: done } }));
  const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "mp-full",
                                                  ChecksumMode: "ENABLED" }));
  out["mp-full"] = { createType: c.ChecksumType ?? null, completeType: r.ChecksumType ?? null,
                     completeCrc32: r.ChecksumCRC32 ?? null, headType: h.ChecksumType ?? null,
                     headCrc32: h.ChecksumCRC32 ?? null,
                     data: Buffer.concat(parts).toString("base64") };
}

// 4. SSE-C without the key is refused
try {
  await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "mp-ssec" }));
  out.ssecNoKey = "accepted";
} catch (e) {
  out.ssecNoKey = { name: e.name, status: e.$metadata?.httpStatusCode };
}

const l = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
out.keys = (l.Contents ?? []).map((c) => c.Key);
await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "small" }));
console.log(JSON.stringify(out));
