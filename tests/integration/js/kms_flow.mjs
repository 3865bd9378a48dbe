// The JavaScript SDK v3's KMS client against coffer's KMS API on the S3 port: create a key and
// an alias, encrypt and decrypt, a data key, describe and list, and three error types. Prints
// one JSON object with what it saw; test_kms_api.py asserts on it.
import {
  KMSClient, CreateKeyCommand, CreateAliasCommand, EncryptCommand, DecryptCommand,
  GenerateDataKeyCommand, DescribeKeyCommand, ListAliasesCommand, SignCommand,
} from "@aws-sdk/client-kms";

const endpoint = process.argv[2];
const kms = new KMSClient({
  endpoint, region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});
const out = {};
const failure = async (cmd) => {
  try {
    await kms.send(cmd);
    return { name: "no error", status: 200 };
  } catch (e) {
    return { name: e.name, status: e.$metadata.httpStatusCode };
  }
};

const created = await kms.send(new CreateKeyCommand({ Description: "js key" }));
const keyId = created.KeyMetadata.KeyId;
out.keyId = keyId;
const alias = `alias/js-${keyId.slice(0, 8)}`;
await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));

const enc = await kms.send(new EncryptCommand({
  KeyId: alias, Plaintext: Buffer.from("hello from the javascript kms client"),
  EncryptionContext: { client: "js" },
}));
const dec = await kms.send(new DecryptCommand({
  CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { client: "js" },
}));
out.decrypted = Buffer.from(dec.Plaintext).toString();
out.decryptKeyId = dec.KeyId;

const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }));
const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
out.dataKeyLength = dk.Plaintext.length;
out.dataKeyMatches = Buffer.compare(Buffer.from(dk.Plaintext), Buffer.from(back.Plaintext)) === 0;

const d = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
out.describe = {
  KeyId: d.KeyMetadata.KeyId, KeyState: d.KeyMetadata.KeyState,
  KeySpec: d.KeyMetadata.KeySpec, Arn: d.KeyMetadata.Arn,
};
const la = await kms.send(new ListAliasesCommand({ KeyId: keyId }));
out.aliases = la.Aliases.map((a) => a.AliasName);

out.notFound = await failure(new DescribeKeyCommand({ KeyId: "alias/no-such-js-alias" }));
out.badCiphertext = await failure(new DecryptCommand({
  CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { client: "other" },
}));
out.unsupported = await failure(new SignCommand({
  KeyId: keyId, Message: Buffer.from("m"), SigningAlgorithm: "RSASSA_PSS_SHA_256",
}));
console.log(JSON.stringify(out));
