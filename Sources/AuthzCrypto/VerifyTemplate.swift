internal import COpenSSL

/// An `EVP_MD_CTX` on which `EVP_DigestVerifyInit` (and the RSA padding setup) has run once, for
/// one key and one signature scheme; each verification works on a copy of it.
///
/// Initialising a verification context is the expensive part of OpenSSL 3 around the signature
/// math: it creates a key context, looks the key type's names up, fetches the signature
/// implementation by name from the global provider store (a lock shared by every thread) and
/// sets the padding through parameter lists. Copying an initialised context skips all of that.
///
/// Shared by every thread that verifies with the key: after `init` the context is only ever read,
/// as the source of `EVP_MD_CTX_copy_ex`, which duplicates the provider's state and only takes
/// references on what the template holds (atomic reference counts), never writes to it.
final class VerifyTemplate: @unchecked Sendable {
    /// EVP_MD_CTX*, initialised for verification; never used directly, only copied.
    private let ctx: OpaquePointer

    /// A template for `pkey`, or nil if OpenSSL cannot set up this scheme for the key (then no
    /// signature of that scheme can verify under it). `hash` is nil for EdDSA.
    init?(pkey: OpaquePointer, hash: HashFunction?, padding: PublicKey.RSAPadding?) {
        guard let ctx = EVP_MD_CTX_new() else {
            drainOpenSSLErrors()
            return nil
        }
        var pctx: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(ctx, &pctx, hash?.evpMD, nil, pkey) == 1 else {
            drainOpenSSLErrors()
            EVP_MD_CTX_free(ctx)
            return nil
        }
        if let padding, let hash {
            let configured: Bool
            switch padding {
            case .pkcs1:
                configured = authzd_EVP_PKEY_CTX_set_rsa_padding(pctx, authzd_RSA_PKCS1_PADDING()) == 1
            case .pss:
                // RFC 7518 §3.5: MGF1 with the same hash, salt exactly as long as the hash.
                configured = authzd_EVP_PKEY_CTX_set_rsa_padding(pctx, authzd_RSA_PKCS1_PSS_PADDING()) == 1
                    && authzd_EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, hash.evpMD) == 1
                    && authzd_EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, Int32(hash.byteCount)) == 1
            }
            guard configured else {
                drainOpenSSLErrors()
                EVP_MD_CTX_free(ctx)
                return nil
            }
        }
        self.ctx = ctx
    }

    deinit {
        EVP_MD_CTX_free(ctx)
    }

    /// Whether `signature` verifies over `message`, on a fresh copy of the template, so that
    /// concurrent calls never share mutable state.
    func verify(message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer) -> Bool {
        guard let work = EVP_MD_CTX_new() else {
            drainOpenSSLErrors()
            return false
        }
        defer { EVP_MD_CTX_free(work) }
        guard EVP_MD_CTX_copy_ex(work, ctx) == 1 else {
            drainOpenSSLErrors()
            return false
        }
        // The copy is used once: without this flag EVP_DigestVerifyFinal duplicates the
        // context again so that it could be finalised a second time.
        EVP_MD_CTX_set_flags(work, Int32(EVP_MD_CTX_FLAG_FINALISE))
        // Ed25519 must see an empty message as empty, not as "no message": pass a real address.
        let msg = message.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyByte)
        let sig = signature.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyByte)
        let ok = EVP_DigestVerify(work, sig, signature.count, msg, message.count) == 1
        if !ok { drainOpenSSLErrors() }
        return ok
    }
}
