// Testcontainers' LocalStack module with coffer's image in place of localstack/localstack: start
// it (Testcontainers waits for "Ready."), then an @aws-sdk/client-s3 client built from
// getConnectionUri() does an SSE-KMS put and get. Driven by test_container.py, which points
// DOCKER_HOST at podman's Docker-compatible socket. Prints one JSON line with the results.
// Usage: node testcontainers_flow.mjs IMAGE
import { LocalstackContainer } from "@testcontainers/localstack";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
} from "@aws-sdk/client-s3";

const image = process.argv[2] ?? "coffer:latest";
const t0 = Date.now();
const container = await new LocalstackContainer(image).start();
const startMs = Date.now() - t0;
const out = { startMs, uri: container.getConnectionUri() };
try {
  const s3 = new S3Client({
    endpoint: container.getConnectionUri(),
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await s3.send(new CreateBucketCommand({ Bucket: "testcontainers-bucket" }));
  const body = "encrypted under a KMS key, through Testcontainers";
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: "testcontainers-bucket",
      Key: "kms.txt",
      Body: body,
      ServerSideEncryption: "aws:kms",
    }),
  );
  const get = await s3.send(
    new GetObjectCommand({ Bucket: "testcontainers-bucket", Key: "kms.txt" }),
  );
  out.putSse = put.ServerSideEncryption;
  out.putKey = put.SSEKMSKeyId;
  out.getSse = get.ServerSideEncryption;
  out.getKey = get.SSEKMSKeyId;
  out.equal = (await get.Body.transformToString()) === body;
} finally {
  const t1 = Date.now();
  await container.stop();
  out.stopMs = Date.now() - t1;
  out.totalMs = Date.now() - t0;
}
console.log(JSON.stringify(out));
