// authzd-verify-bench: verifies signed JWTs through the code path of a JWKS decision that misses
// the verified-token cache (CompactJWS.parse, then JWSVerifier.verify with the VerificationKey),
// for counting instructions per verification under callgrind. Not part of the daemon.
//
//   authzd-verify-bench ALG ITERATIONS [jose|raw] [THREADS]
//
// ALG is RS256, ES256 or EdDSA (or any other JWS signature algorithm). A pool of distinct
// tokens is signed first, then ITERATIONS verifications cycle through it. "jose" (the default)
// parses each token and verifies it as the jwks plugin does; "raw" calls PublicKey.verify on
// the already decoded signing input and signature, which isolates the wrapper around OpenSSL.
// With THREADS > 1, that many threads share the one key, as the daemon's event loops do, and
// the process's CPU time per verification is printed: what threads cost each other inside
// OpenSSL (locks, shared reference counts) would show there, never in an instruction count.
// Under callgrind, count only measuredLoop (see Benchmarks/callgrind.sh) and divide by N.
import AuthzCrypto
import AuthzJSON
import Dispatch
import JOSE

#if canImport(Glibc)
import Glibc
#endif

@Sendable func fail(_ message: String) -> Never {
    print("authzd-verify-bench: \(message)")
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 3, let algorithm = JWSAlgorithm(rawValue: args[1]),
      let scheme = algorithm.signatureAlgorithm, let iterations = Int(args[2]), iterations >= 0
else {
    fail("usage: authzd-verify-bench ALG ITERATIONS [jose|raw] [THREADS]")
}
let mode = args.count > 3 ? args[3] : "jose"
let threads = args.count > 4 ? Int(args[4]) ?? 0 : 1
guard threads >= 1 else { fail("THREADS must be a positive number") }
guard mode == "jose" || mode == "raw" else { fail("mode must be jose or raw") }

let spec: PrivateKey.Spec
switch scheme {
case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: spec = .rsa(bits: 2048)
case .es256: spec = .ec(.p256)
case .es384: spec = .ec(.p384)
case .es512: spec = .ec(.p521)
case .edDSA: spec = .ed25519
}

let privateKey: PrivateKey
do { privateKey = try PrivateKey(generating: spec) } catch { fail("key generation: \(error)") }
let key = VerificationKey(kid: "bench", alg: algorithm, key: privateKey.publicKey)

// Claims shaped like the benchmark's JWKS tokens (issuer, audience, subject, expiry).
let poolSize = 64
var signed: [String] = []
for i in 0..<poolSize {
    let claims = JSONObject([
        ("iss", "https://idp.bench.invalid/"), ("aud", "authzd-bench"), ("sub", .string("user-\(i)")),
        ("iat", 1_800_000_000), ("exp", 4_000_000_000), ("jti", .string("token-\(i)")),
    ])
    do {
        signed.append(try JWSSigner.sign(claims: claims, kid: "bench", algorithm: algorithm, key: privateKey))
    } catch {
        fail("signing: \(error)")
    }
}

/// What the measured loop reads, shared by its threads.
struct Workload: Sendable {
    let tokens: [String]
    let parsed: [CompactJWS]
    let key: VerificationKey
    let scheme: SignatureAlgorithm
    let raw: Bool
}
let workload = Workload(tokens: signed, parsed: signed.map { try! CompactJWS.parse($0) }, key: key, scheme: scheme,
                        raw: mode == "raw")

/// The measured part: callgrind counts only inside this function (--toggle-collect), so key
/// generation and signing, whose cost varies from run to run, stay out of the figures.
@inline(never)
@Sendable func measuredLoop(_ w: Workload, iterations: Int, offset: Int = 0) -> Int {
    var verified = 0
    for i in offset..<(offset + iterations) {
        if w.raw {
            let jws = w.parsed[i % w.parsed.count]
            if w.key.key.verify(w.scheme, message: jws.signingInput, signature: jws.signature) { verified += 1 }
        } else {
            guard let jws = try? CompactJWS.parse(w.tokens[i % w.tokens.count]) else { fail("token \(i) does not parse") }
            if JWSVerifier.verify(jws, with: w.key) { verified += 1 }
        }
    }
    return verified
}

func cpuMicroseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func us(_ t: timeval) -> Double { Double(t.tv_sec) * 1e6 + Double(t.tv_usec) }
    return us(usage.ru_utime) + us(usage.ru_stime)
}

// Threads split the iterations; each checks its own count, and a failure ends the process.
let perThread = iterations / threads
let before = cpuMicroseconds()
if threads == 1 {
    if measuredLoop(workload, iterations: iterations) != iterations { fail("a verification failed") }
} else {
    let w = workload
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        if measuredLoop(w, iterations: perThread, offset: t * 7) != perThread { fail("a verification failed") }
    }
}
let spent = cpuMicroseconds() - before
let verified = perThread * threads
if verified > 0 {
    let tenths = Int((spent / Double(verified) * 10).rounded())
    print("\(threads) thread(s): \(tenths / 10).\(tenths % 10) µs CPU per verification")
}
print("\(algorithm.rawValue) \(mode): \(verified) verified")
