// The njs peer of the benchmark: nginx answers its own auth_request subrequest with the same
// check as authzd's `hs` app (ip_allowlist 127.0.0.1/::1, then jwt_hmac HS256 with an optional
// exp), in JavaScript inside the nginx worker, with njs's crypto HMAC. No other process is
// involved. The secret comes from the nginx variable $njs_jwt_secret.
//
// It is a benchmark peer, not a verifier to deploy: it accepts only the exact header authzd's
// tokens carry and compares MACs with ===, which is not constant-time.
import crypto from 'crypto';

const ALLOWED = ['127.0.0.1', '::1'];

function deny(r, status) {
    r.return(status);
}

function verify(r) {
    if (!ALLOWED.includes(r.remoteAddress)) {
        return deny(r, 403);
    }
    let token = r.headersIn['Authorization'] || '';
    if (token.startsWith('Bearer ')) {
        token = token.slice(7);
    }
    const parts = token.split('.');
    if (parts.length !== 3) {
        return deny(r, 401);
    }
    let header, claims;
    try {
        header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
        claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch (e) {
        return deny(r, 401);
    }
    if (header.alg !== 'HS256' || typeof claims !== 'object' || claims === null) {
        return deny(r, 401);
    }
    const mac = crypto.createHmac('sha256', r.variables.njs_jwt_secret)
        .update(parts[0] + '.' + parts[1]).digest('base64url');
    if (mac !== parts[2]) {
        return deny(r, 401);
    }
    if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000)) {
        return deny(r, 401);
    }
    r.return(200);
}

export default { verify };
