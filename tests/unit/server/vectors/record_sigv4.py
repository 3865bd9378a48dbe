#!/usr/bin/env python3
"""Records real SigV4-signed requests from boto3, the aws CLI and the JavaScript SDK (credentials
test/test) into sigv4_recorded.txt, the vectors test_authn_recorded replays with the recorded
x-amz-date as its clock. Run by hand when a client changes; the output is checked in.

A tiny HTTP server on 127.0.0.1 answers just enough for each client to finish (ETag on PUT, a
small body on GET, an empty ListBucketResult) and writes down, per request: the client, the
method, the raw path and query, every header as received, and the SHA-256 of the body.

Format (one record per request; lines "key value", headers "header name:value"):
    client <what made it>
    method PUT
    path /bucket/key
    query a=b&c=d            (raw, may be empty)
    header host:127.0.0.1:4566
    ...
    body-sha256 <hex>
    end
"""
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "sigv4_recorded.txt")
JS_DIR = os.path.join(HERE, "..", "..", "..", "integration", "js")
records = []
current = ["?"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _record(self):
        body = self._body()
        path, _, query = self.path.partition("?")
        rec = [f"client {current[0]}", f"method {self.command}", f"path {path}",
               f"query {query}"]
        for k, v in self.headers.items():
            rec.append(f"header {k.lower()}:{v}")
        rec.append(f"body-sha256 {hashlib.sha256(body).hexdigest()}")
        records.append(rec)

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_PUT(self):
        self._record()
        self._reply(200, headers={"ETag": '"0123456789abcdef0123456789abcdef"'})

    def do_GET(self):
        self._record()
        if "list-type=2" in self.path:
            self._reply(200, b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                             b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>vec-bucket'
                             b'</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000'
                             b'</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>',
                        {"Content-Type": "application/xml"})
        else:
            self._reply(200, b"hello", {"ETag": '"5d41402abc4b2a76b9719d911017c592"',
                                        "Content-Type": "binary/octet-stream"})


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ep = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")

    import boto3
    import botocore
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=ep, aws_access_key_id="test",
                      aws_secret_access_key="test", region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    tag = f"boto3 {boto3.__version__} botocore {botocore.__version__}"
    current[0] = f"{tag} put_object"
    s3.put_object(Bucket="vec-bucket", Key="dir/key with spaces+plus.txt", Body=b"hello world",
                  ContentType="text/plain", Metadata={"colour": "blue"})
    current[0] = f"{tag} get_object range"
    s3.get_object(Bucket="vec-bucket", Key="dir/key with spaces+plus.txt", Range="bytes=0-4")
    current[0] = f"{tag} list_objects_v2"
    s3.list_objects_v2(Bucket="vec-bucket", Prefix="dir/", Delimiter="/", MaxKeys=10)
    current[0] = f"{tag} presigned get_object"
    s3v4 = boto3.client("s3", endpoint_url=ep, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1",
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": "path"}))
    url = s3v4.generate_presigned_url("get_object", ExpiresIn=3600,
                                    Params={"Bucket": "vec-bucket", "Key": "a/b=c&d.txt"})
    urllib.request.urlopen(url).read()

    ver = subprocess.run(["aws", "--version"], capture_output=True, text=True, env=env)
    current[0] = f"{(ver.stdout or ver.stderr).split()[0]} s3api put-object"
    tmp = os.path.join(HERE, ".cli-body")
    with open(tmp, "wb") as f:
        f.write(b"from the aws cli\n")
    subprocess.run(["aws", "--endpoint-url", ep, "s3api", "put-object", "--bucket", "vec-bucket",
                    "--key", "cli/obj.txt", "--body", tmp], check=True, env=env,
                   capture_output=True)
    os.unlink(tmp)

    pkg = json.load(open(os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-s3",
                                      "package.json")))
    current[0] = f"@aws-sdk/client-s3 {pkg['version']} PutObject (default CRC32, aws-chunked)"
    js = ("import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';"
          "import { Readable } from 'node:stream';"
          "const s3 = new S3Client({endpoint: process.argv[1], region: 'us-east-1',"
          " forcePathStyle: true, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}});"
          "await s3.send(new PutObjectCommand({Bucket: 'vec-bucket', Key: 'js/streamed',"
          " ContentLength: 11, Body: Readable.from([Buffer.from('hello '),"
          " Buffer.from('world')])}));")
    subprocess.run(["node", "--input-type=module", "-e", js, ep], check=True, cwd=JS_DIR,
                   capture_output=True)
    srv.shutdown()

    with open(OUT, "w") as f:
        f.write("# SigV4 requests recorded from real clients (credentials test/test) by\n"
                "# vectors/record_sigv4.py; replayed by test_authn_recorded.c.\n")
        for rec in records:
            f.write("\n".join(rec) + "\nend\n")
    print(f"{len(records)} requests -> {OUT}")


if __name__ == "__main__":
    sys.exit(main())
