// Verifies a Lockbox grant with `jose`, a JOSE library nobody here wrote,
// against the daemon's published JWKS: the proof that "any JOSE library
// verifies it" holds for ours as it is served, not only for our own C.
//
//   node tests/jose/verify.mjs JWKS_URL TOKEN [EXPECT_TENANT]
//
// Exit 0 and the payload as JSON on stdout when the grant verifies (EdDSA
// only, issuer "lockbox", typ JWT, every grant claim present, nbf/exp
// checked against the clock, and the tenant claim equal to EXPECT_TENANT
// when given); exit 1 with the reason on stderr when it does not; exit 2 on
// a usage error.  LOCKBOX_JOSE_NOW_S (seconds since the epoch) replaces the
// clock, for a daemon running on a test clock.
// Install the pinned library first: sh tests/jose/install.sh
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, token, expectTenant] = process.argv.slice(2);
if (!jwksUrl || !token || process.argv.length > 5) {
  console.error('usage: node tests/jose/verify.mjs JWKS_URL TOKEN [EXPECT_TENANT]');
  process.exit(2);
}

const options = {
  algorithms: ['EdDSA'],
  issuer: 'lockbox',
  typ: 'JWT',
  requiredClaims: ['sub', 'tenant', 'rid', 'wl', 'res', 'nbf', 'iat', 'exp', 'jti'],
};
const now = process.env.LOCKBOX_JOSE_NOW_S;
if (now !== undefined && now !== '') {
  if (!/^[0-9]+$/.test(now)) {
    console.error('LOCKBOX_JOSE_NOW_S must be whole seconds');
    process.exit(2);
  }
  options.currentDate = new Date(Number(now) * 1000);
}

try {
  const jwks = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000 });
  const { payload } = await jwtVerify(token, jwks, options);
  if (expectTenant !== undefined && payload.tenant !== expectTenant) {
    console.error(`tenant ${JSON.stringify(payload.tenant)} is not ${JSON.stringify(expectTenant)}`);
    process.exit(1);
  }
  console.log(JSON.stringify(payload));
  process.exit(0);
} catch (err) {
  console.error(`${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}
