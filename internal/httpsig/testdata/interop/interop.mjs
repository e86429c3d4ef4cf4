// Test-only driver for http-message-signatures, an RFC 9421 implementation
// written independently of the Go package under test. It reads one JSON job
// on stdin and writes one JSON result on stdout.
//
//   mode "sign":      sign the described request and print its headers.
//   mode "roundtrip": sign the request, send it with fetch to the Go hub,
//                     and verify the hub's signed response with the hub key,
//                     both against that request and against another one
//                     (the same request under another nonce), for which it
//                     must fail: the answer covers the request's signature.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { httpbis, createSigner, createVerifier } from 'http-message-signatures';

const job = JSON.parse(await new Promise((resolve, reject) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c) => { data += c; });
  process.stdin.on('end', () => resolve(data));
  process.stdin.on('error', reject);
}));

const contentDigest = (buf) => `sha-256=:${createHash('sha256').update(buf).digest('base64')}:`;

async function signRequest(nonce = job.nonce) {
  const url = new URL(job.url);
  const headers = {};
  const fields = ['@method', '@authority', '@path'];
  if (url.search !== '') fields.push('@query');
  if (job.body) {
    headers['content-type'] = job.contentType;
    headers['content-digest'] = contentDigest(Buffer.from(job.body));
    fields.push('content-digest', 'content-type');
  }
  const key = createSigner(createPrivateKey(job.devicePrivateKeyPem), 'ed25519', job.keyid);
  return httpbis.signMessage({
    key,
    name: job.label,
    fields,
    params: ['created', 'expires', 'nonce', 'keyid', 'alg'],
    paramValues: {
      created: new Date(job.created * 1000),
      expires: new Date(job.expires * 1000),
      nonce,
    },
  }, { method: job.method, url: job.url, headers });
}

async function roundtrip() {
  const req = await signRequest();
  const body = job.sendBody ?? job.body;
  const res = await fetch(job.url, { method: job.method, headers: req.headers, body: body || undefined });
  const resBody = Buffer.from(await res.arrayBuffer());
  const resHeaders = Object.fromEntries(res.headers.entries());
  const hubKey = createPublicKey(job.hubPublicKeyPem);
  const verify = async (request) => {
    try {
      return await httpbis.verifyMessage({
        keyLookup: async (params) => (params.keyid === job.hubKeyid
          ? { id: params.keyid, algs: ['ed25519'], verify: createVerifier(hubKey, 'ed25519') }
          : null),
        // The library matches names only: ";req" and ";key" are not checked here.
        requiredFields: ['@status', 'content-digest', 'signature', 'signature-input'],
        requiredParams: ['created', 'expires', 'keyid'],
        tolerance: 60,
      }, { status: res.status, headers: resHeaders }, request) === true ? [true, ''] : [false, 'not verified'];
    } catch (e) {
      return [false, String(e)];
    }
  };
  const [verified, verifyError] = await verify(req);
  const [otherVerified] = await verify(await signRequest(job.nonce + 'x'));
  return {
    status: res.status,
    body: resBody.toString('utf8'),
    responseVerified: verified,
    responseVerifyError: verifyError,
    otherRequestVerified: otherVerified,
    responseDigestMatches: resHeaders['content-digest'] === contentDigest(resBody),
  };
}

const out = job.mode === 'sign' ? (await signRequest()).headers : await roundtrip();
process.stdout.write(JSON.stringify(out));
