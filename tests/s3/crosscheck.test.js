// Cross-check of media-store-s3 with the official AWS SDK (@aws-sdk/client-s3),
// both through the SigV4-checking proxy in front of s3rver:
// - objects Eltrix wrote (single PUT and multipart) read back byte for byte
//   with the SDK, and objects the SDK wrote read back through Eltrix;
// - a wrong secret key fails cleanly with SignatureDoesNotMatch and stores
//   nothing; a source that fails mid-upload leaves no object and no pending
//   multipart upload (ListMultipartUploads through the SDK);
// - the proxy refuses a body that does not match its signed SHA-256.
//
// Eltrix's side is build/tests/s3/s3-store-cli, which loads the real plugin
// file through the core's registry.
//
//   ELTRIX_TEST_S3_* (scripts/lib/s3.sh env), ELTRIX_S3_STORE_CLI, ELTRIX_S3_PLUGIN
//   node --test tests/s3/crosscheck.test.js
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const http = require('node:http');
const { test, before } = require('node:test');
const { SignatureV4 } = require('@aws-sdk/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const {
  S3Client,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  ListMultipartUploadsCommand,
} = require('@aws-sdk/client-s3');

const env = process.env;
const endpoint = env.ELTRIX_TEST_S3_ENDPOINT;
const skip = endpoint
  ? false
  : 'ELTRIX_TEST_S3_ENDPOINT is not set (scripts/test starts the S3 test server)';
if (skip && env.CI === 'true') {
  throw new Error(`crosscheck: ${skip}, and CI=true requires this suite to run`);
}

const bucket = env.ELTRIX_TEST_S3_BUCKET || 'eltrix-test';
const prefix = `crosscheck-${crypto.randomBytes(6).toString('hex')}/`;
const MiB = 1024 * 1024;

function sdk(secret = env.ELTRIX_TEST_S3_SECRET_KEY) {
  return new S3Client({
    endpoint,
    region: env.ELTRIX_TEST_S3_REGION || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.ELTRIX_TEST_S3_ACCESS_KEY, secretAccessKey: secret },
    // The proxy (like S3) checks the payload hash; keep the SDK's own
    // checksums to the ones every S3-compatible server understands.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

// Runs the plugin through s3-store-cli; returns { status, stdout (Buffer), stderr }.
function eltrix(args, { input, secret } = {}) {
  const result = spawnSync(env.ELTRIX_S3_STORE_CLI, [env.ELTRIX_S3_PLUGIN, ...args], {
    input,
    maxBuffer: 64 * MiB,
    env: {
      ...env,
      ELTRIX_S3_ENDPOINT: endpoint,
      ELTRIX_S3_BUCKET: bucket,
      ELTRIX_S3_REGION: env.ELTRIX_TEST_S3_REGION || 'us-east-1',
      ELTRIX_S3_ACCESS_KEY: env.ELTRIX_TEST_S3_ACCESS_KEY,
      ELTRIX_S3_SECRET_KEY: secret || env.ELTRIX_TEST_S3_SECRET_KEY,
      ELTRIX_S3_PREFIX: prefix,
      ELTRIX_S3_PART_SIZE_MB: '5',
      ELTRIX_S3_RETRIES: '1',
    },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

async function sdkRead(key) {
  const answer = await sdk().send(new GetObjectCommand({ Bucket: bucket, Key: prefix + key }));
  return { body: Buffer.from(await answer.Body.transformToByteArray()), type: answer.ContentType };
}

async function sdkMissing(key) {
  try {
    await sdk().send(new HeadObjectCommand({ Bucket: bucket, Key: prefix + key }));
    return false;
  } catch (e) {
    if (e.$metadata && e.$metadata.httpStatusCode === 404) return true;
    throw e;
  }
}

before(() => {
  if (skip) return;
  for (const name of ['ELTRIX_S3_STORE_CLI', 'ELTRIX_S3_PLUGIN']) {
    assert.ok(env[name], `${name} must name the built s3-store-cli / media-store-s3.so`);
  }
});

test('objects Eltrix wrote read back byte for byte with @aws-sdk/client-s3', { skip }, async () => {
  for (const [key, size, type] of [
    ['example.org/empty', 0, 'text/plain'],
    ['example.org/small', 100 * 1024 + 3, 'image/png'],
    ['example.org/multipart', 12 * MiB + 5, 'video/mp4'], // three 5 MiB parts
  ]) {
    const data = crypto.randomBytes(size);
    const put = eltrix(['put', key, type], { input: data });
    assert.equal(put.status, 0, put.stderr);
    assert.equal(put.stdout.toString().trim(), String(size));
    const back = await sdkRead(key);
    assert.equal(back.body.length, size, key);
    assert.ok(back.body.equals(data), `${key}: the SDK read other bytes than Eltrix wrote`);
    assert.equal(back.type, type);
  }
});

test('objects @aws-sdk/client-s3 wrote read back byte for byte through Eltrix', { skip }, async () => {
  const client = sdk();
  const small = crypto.randomBytes(300 * 1024 + 7);
  await client.send(new PutObjectCommand({
    Bucket: bucket, Key: `${prefix}example.org/from-sdk`, Body: small, ContentType: 'image/jpeg',
  }));
  const got = eltrix(['get', 'example.org/from-sdk']);
  assert.equal(got.status, 0, got.stderr);
  assert.ok(got.stdout.equals(small), 'Eltrix read other bytes than the SDK wrote');
  assert.equal(eltrix(['stat', 'example.org/from-sdk']).stdout.toString().trim(), `${small.length} image/jpeg`);
  const range = eltrix(['get', 'example.org/from-sdk', '1000', '5000']);
  assert.ok(range.stdout.equals(small.subarray(1000, 6000)));

  // A multipart object from the SDK (two 5 MiB parts and a short last one).
  const parts = [crypto.randomBytes(5 * MiB), crypto.randomBytes(5 * MiB), crypto.randomBytes(1234)];
  const key = `${prefix}example.org/multipart-from-sdk`;
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const done = [];
  for (const [i, body] of parts.entries()) {
    const answer = await client.send(new UploadPartCommand({
      Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body,
    }));
    done.push({ ETag: answer.ETag, PartNumber: i + 1 });
  }
  await client.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done },
  }));
  const big = eltrix(['get', 'example.org/multipart-from-sdk']);
  assert.equal(big.status, 0, big.stderr);
  assert.ok(big.stdout.equals(Buffer.concat(parts)));

  assert.equal(eltrix(['get', 'example.org/never-written']).status, 3);
});

test('a wrong secret key fails cleanly with SignatureDoesNotMatch and stores nothing', { skip }, async () => {
  const wrong = 'not-the-secret-Zq81';
  const put = eltrix(['put', 'example.org/wrong-secret'], { input: Buffer.from('x'), secret: wrong });
  assert.equal(put.status, 1);
  assert.match(put.stderr, /SignatureDoesNotMatch \(HTTP 403\)/);
  assert.ok(!put.stderr.includes(wrong), 'the secret key was printed');
  assert.ok(await sdkMissing('example.org/wrong-secret'));

  const health = eltrix(['health'], { secret: wrong });
  assert.equal(health.status, 4);
  assert.match(health.stdout.toString(), /^failed: .*SignatureDoesNotMatch/);
  assert.match(eltrix(['health']).stdout.toString(), /^ok: /);

  // The SDK with the wrong secret is refused by the same check.
  await assert.rejects(
    sdk(wrong).send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}example.org/small` })),
    (e) => e.name === 'SignatureDoesNotMatch',
  );
});

test('a source failing mid-upload leaves no object and no pending multipart upload', { skip }, async () => {
  const failed = eltrix(['put-failing', 'example.org/broken', String(11 * MiB)]);
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /the source failed on purpose/);
  assert.ok(await sdkMissing('example.org/broken'));
  const uploads = await sdk().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  const mine = (uploads.Uploads || []).filter((u) => u.Key.startsWith(prefix));
  assert.deepEqual(mine, []);
});

// The proxy itself: a body that does not match its signed SHA-256 is refused
// and not stored; UNSIGNED-PAYLOAD is accepted as S3 accepts it.
test('the SigV4 proxy refuses a body that does not match its signed hash', { skip }, async () => {
  const signer = new SignatureV4({
    credentials: { accessKeyId: env.ELTRIX_TEST_S3_ACCESS_KEY, secretAccessKey: env.ELTRIX_TEST_S3_SECRET_KEY },
    region: env.ELTRIX_TEST_S3_REGION || 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const url = new URL(endpoint);
  const body = Buffer.from('the body that is sent');
  const put = async (name, hash) => {
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: `/${bucket}/${prefix}proxy/${name}`,
      query: {},
      headers: { host: url.host, 'x-amz-content-sha256': hash, 'content-length': String(body.length) },
    });
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: url.hostname, port: url.port, method: 'PUT', path: signed.path, headers: signed.headers,
      }, (res) => {
        let text = '';
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  const other = crypto.createHash('sha256').update('another body').digest('hex');
  const refused = await put('mismatch', other);
  assert.equal(refused.status, 400);
  assert.match(refused.text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  assert.ok(await sdkMissing('proxy/mismatch'));

  const right = crypto.createHash('sha256').update(body).digest('hex');
  assert.equal((await put('matching', right)).status, 200);
  assert.equal((await put('unsigned', 'UNSIGNED-PAYLOAD')).status, 200);
  assert.ok((await sdkRead('proxy/matching')).body.equals(body));
});

// An https endpoint is verified against the system's CA certificates: a
// server with a self-signed certificate (a real TLS server, openssl s_server)
// is refused, and health says why.
test('an https endpoint with an untrusted certificate is refused', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eltrix-s3-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
  assert.equal(made.status, 0, String(made.stderr));
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-quiet', '-www',
    '-cert', path.join(dir, 'cert.pem'), '-key', path.join(dir, 'key.pem')], { stdio: 'ignore' });
  t.after(() => server.kill());
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const result = spawnSync(env.ELTRIX_S3_STORE_CLI, [env.ELTRIX_S3_PLUGIN, 'health'], {
    env: {
      ...env,
      ELTRIX_S3_ENDPOINT: `https://127.0.0.1:${port}`,
      ELTRIX_S3_BUCKET: bucket,
      ELTRIX_S3_ACCESS_KEY: env.ELTRIX_TEST_S3_ACCESS_KEY,
      ELTRIX_S3_SECRET_KEY: env.ELTRIX_TEST_S3_SECRET_KEY,
      ELTRIX_S3_RETRIES: '0',
    },
  });
  assert.equal(result.status, 4, String(result.stderr));
  assert.match(String(result.stdout), /^failed: .*certificate verify failed/);
});
