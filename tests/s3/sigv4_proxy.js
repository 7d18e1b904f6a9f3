#!/usr/bin/env node
// An HTTP proxy in front of s3rver that checks every request's AWS Signature
// Version 4 with AWS's own signer (@aws-sdk/signature-v4), because s3rver
// itself does not verify v4 signatures and would accept any secret key.
//
//   node sigv4_proxy.js --listen PORT --upstream PORT --data DIR
//                       [--access-key S3RVER] [--secret-key S3RVER] [--region us-east-1]
//
// For each request (header-based authentication only):
// - no Authorization header: 403 AccessDenied (nothing anonymous gets through);
// - another access key: 403 InvalidAccessKeyId; x-amz-date more than 15
//   minutes away: 403 RequestTimeTooSkewed; no x-amz-content-sha256: 400
//   InvalidRequest, as S3 answers;
// - the signature is recomputed from the method, path, query, the headers
//   named in SignedHeaders, x-amz-date and x-amz-content-sha256 (a payload hash
//   or UNSIGNED-PAYLOAD); any difference: 403 SignatureDoesNotMatch with S3's
//   XML error body;
// - otherwise the request is forwarded to s3rver and its answer streamed back.
//   Bodies are streamed, never buffered whole. When the payload hash is
//   given, the body is hashed on the way and its last chunk held back until
//   the hash is known: a mismatch aborts the upstream request (s3rver stores
//   nothing) and answers 400 XAmzContentSHA256Mismatch.
//
// s3rver 3.7.1 lacks two multipart calls that S3 clients rely on, so the
// proxy serves them from s3rver's data directory (--data), after the same
// signature check:
// - AbortMultipartUpload (DELETE /bucket/key?uploadId=ID): removes the upload's
//   parts (s3rver keeps them in <data>/<bucket>/._S3rver_uploads/<ID>/);
// - ListMultipartUploads (GET /bucket?uploads): lists those directories
//   (Initiated: the directory's mtime).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { SignatureV4 } = require('@aws-sdk/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

function parseArgs(argv) {
  const args = { accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' };
  const names = {
    '--listen': 'listen',
    '--upstream': 'upstream',
    '--data': 'data',
    '--access-key': 'accessKey',
    '--secret-key': 'secretKey',
    '--region': 'region',
  };
  for (let i = 2; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name || i + 1 >= argv.length) throw new Error(`unknown or incomplete argument ${argv[i]}`);
    args[name] = argv[i + 1];
  }
  for (const required of ['listen', 'upstream', 'data']) {
    if (!args[required]) throw new Error(`--${required} is required`);
  }
  return args;
}

const args = parseArgs(process.argv);
const signer = new SignatureV4({
  credentials: { accessKeyId: args.accessKey, secretAccessKey: args.secretKey },
  region: args.region,
  service: 's3',
  sha256: Sha256,
  // S3 signs the path as sent (encoded once), not encoded a second time.
  uriEscapePath: false,
  applyChecksum: false,
});

const UNSIGNED = 'UNSIGNED-PAYLOAD';
const MAX_SKEW_MS = 15 * 60 * 1000;

function xmlEscape(text) {
  return String(text).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendError(req, res, status, code, message, extra = {}) {
  const requestId = crypto.randomBytes(8).toString('hex').toUpperCase();
  let body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>`;
  body += `<Message>${xmlEscape(message)}</Message>`;
  for (const [key, value] of Object.entries(extra)) body += `<${key}>${xmlEscape(value)}</${key}>`;
  body += `<RequestId>${requestId}</RequestId></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': req.method === 'HEAD' ? 0 : Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  process.stderr.write(`sigv4_proxy: ${req.method} ${req.url} -> ${status} ${code}\n`);
}

// "AWS4-HMAC-SHA256 Credential=AK/20150830/region/s3/aws4_request, SignedHeaders=a;b, Signature=hex"
function parseAuthorization(value) {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(
      value,
    );
  if (!match) return null;
  const [, accessKey, date, region, service, signedHeaders, signature] = match;
  return { accessKey, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

function parseQuery(search) {
  const query = {};
  for (const [name, value] of new URLSearchParams(search)) {
    if (name in query) {
      query[name] = [].concat(query[name], value);
    } else {
      query[name] = value;
    }
  }
  return query;
}

function constantTimeEqual(a, b) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

// Checks the request's signature; answers the error itself and returns false
// when it is wrong.
async function verify(req, res) {
  const auth = req.headers.authorization;
  if (!auth) {
    sendError(req, res, 403, 'AccessDenied', 'Anonymous access is not allowed');
    return false;
  }
  const parsed = parseAuthorization(auth);
  if (!parsed) {
    sendError(req, res, 400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed');
    return false;
  }
  if (!constantTimeEqual(parsed.accessKey, args.accessKey)) {
    sendError(req, res, 403, 'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      { AWSAccessKeyId: parsed.accessKey });
    return false;
  }
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) {
    sendError(req, res, 400, 'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256');
    return false;
  }
  const signingDate = parseAmzDate(req.headers['x-amz-date']);
  if (!signingDate) {
    sendError(req, res, 403, 'AccessDenied', 'AWS authentication requires a valid x-amz-date header');
    return false;
  }
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) {
    sendError(req, res, 403, 'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.');
    return false;
  }
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!parsed.signedHeaders.includes(required)) {
      sendError(req, res, 403, 'SignatureDoesNotMatch',
        `The request signature we calculated does not match the signature you provided (${required} is not signed).`);
      return false;
    }
  }

  const url = new URL(req.url, 'http://proxy.invalid');
  const headers = {};
  for (const name of parsed.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) {
      sendError(req, res, 403, 'SignatureDoesNotMatch',
        `The request signature we calculated does not match the signature you provided (signed header ${name} is missing).`);
      return false;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const expected = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query: parseQuery(url.search),
      headers,
    },
    {
      signingDate,
      signingRegion: args.region,
      signingService: 's3',
      signableHeaders: new Set(parsed.signedHeaders),
    },
  );
  const want = expected.headers.authorization;
  if (!constantTimeEqual(want, auth)) {
    sendError(req, res, 403, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    return false;
  }
  req.payloadHash = payloadHash;
  return true;
}

function uploadsDir(bucket) {
  return path.join(args.data, bucket, '._S3rver_uploads');
}

function splitTarget(url) {
  const parts = url.pathname.split('/').filter((p, i) => i > 0);
  const bucket = decodeURIComponent(parts[0] || '');
  const key = parts.slice(1).map(decodeURIComponent).join('/');
  return { bucket, key };
}

// AbortMultipartUpload, which s3rver 3.7.1 answers with 405.
function abortUpload(req, res, url) {
  const { bucket } = splitTarget(url);
  const uploadId = url.searchParams.get('uploadId');
  if (!/^[A-Za-z0-9_-]+$/.test(uploadId || '')) {
    sendError(req, res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    return;
  }
  const dir = path.join(uploadsDir(bucket), uploadId);
  if (!fs.existsSync(dir)) {
    sendError(req, res, 404, 'NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  res.writeHead(204);
  res.end();
}

// ListMultipartUploads, which s3rver 3.7.1 answers with NotImplemented.
function listUploads(req, res, url) {
  const { bucket } = splitTarget(url);
  if (!fs.existsSync(path.join(args.data, bucket))) {
    sendError(req, res, 404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    return;
  }
  let entries = [];
  try {
    entries = fs.readdirSync(uploadsDir(bucket));
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  let body = '<?xml version="1.0" encoding="UTF-8"?>\n';
  body += '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">';
  body += `<Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>`;
  body += '<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>';
  for (const uploadId of entries.sort()) {
    let key = '';
    let initiated = '';
    try {
      key = fs.readFileSync(path.join(uploadsDir(bucket), uploadId, 'key'), 'utf8');
      // S3's Initiated: the upload directory's mtime (its creation or last
      // part), never older than the upload's start.
      initiated = fs.statSync(path.join(uploadsDir(bucket), uploadId)).mtime.toISOString();
    } catch (e) {
      continue;
    }
    body += `<Upload><Key>${xmlEscape(key)}</Key><UploadId>${xmlEscape(uploadId)}</UploadId>`;
    body += `<Initiated>${initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`;
  }
  body += '</ListMultipartUploadsResult>';
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// Streams the request to s3rver and the answer back; checks the body's hash
// on the way when one was signed.
function forward(req, res) {
  const upstream = http.request({
    host: '127.0.0.1',
    port: Number(args.upstream),
    method: req.method,
    path: req.url,
    headers: req.headers,
  });
  let answered = false;
  upstream.on('response', (up) => {
    answered = true;
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (err) => {
    if (answered || res.headersSent) {
      res.destroy();
      return;
    }
    if (req.bodyMismatch) return; // already answered
    sendError(req, res, 502, 'InternalError', `s3rver: ${err.message}`);
  });

  const checkHash = /^[0-9a-f]{64}$/.test(req.payloadHash);
  const hash = checkHash ? crypto.createHash('sha256') : null;
  let held = null; // the last chunk, sent once the body's hash is known
  req.on('data', (chunk) => {
    if (!checkHash) {
      if (!upstream.write(chunk)) req.pause();
      return;
    }
    hash.update(chunk);
    if (held && !upstream.write(held)) req.pause();
    held = chunk;
  });
  upstream.on('drain', () => req.resume());
  req.on('end', () => {
    if (checkHash) {
      const actual = hash.digest('hex');
      if (actual !== req.payloadHash) {
        req.bodyMismatch = true;
        upstream.destroy();
        sendError(req, res, 400, 'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: req.payloadHash, S3ComputedContentSHA256: actual });
        return;
      }
      if (held) upstream.write(held);
    }
    upstream.end();
  });
  req.on('aborted', () => upstream.destroy());
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
}

const server = http.createServer(async (req, res) => {
  try {
    if (!(await verify(req, res))) {
      req.resume(); // drain the body so the connection can be reused
      return;
    }
    const url = new URL(req.url, 'http://proxy.invalid');
    const { key } = splitTarget(url);
    if (req.method === 'DELETE' && key && url.searchParams.has('uploadId')) {
      req.resume();
      abortUpload(req, res, url);
      return;
    }
    if (req.method === 'GET' && !key && url.searchParams.has('uploads')) {
      req.resume();
      listUploads(req, res, url);
      return;
    }
    forward(req, res);
  } catch (err) {
    process.stderr.write(`sigv4_proxy: ${err.stack}\n`);
    if (!res.headersSent) sendError(req, res, 500, 'InternalError', err.message);
    else res.destroy();
  }
});
server.keepAliveTimeout = 30000;
server.listen(Number(args.listen), '127.0.0.1', () => {
  process.stderr.write(`sigv4_proxy: listening on 127.0.0.1:${args.listen}, upstream 127.0.0.1:${args.upstream}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
