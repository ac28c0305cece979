internal import COpenSSL

/// A hash function used by HMAC and the signature schemes.
public enum HashFunction: Sendable, Hashable {
    case sha256
    case sha384
    case sha512

    /// Output size in bytes.
    public var byteCount: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// The OpenSSL digest name, as EVP_MAC and provider fetches expect it.
    var openSSLName: String {
        switch self {
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        }
    }

    /// The digest, fetched from the default provider once for the life of the process. The
    /// legacy `EVP_sha256()` objects make every EVP_DigestVerifyInit fetch the implementation
    /// again, which showed in the per-verification cost.
    var evpMD: OpaquePointer {
        switch self {
        case .sha256: fetchedSHA256
        case .sha384: fetchedSHA384
        case .sha512: fetchedSHA512
        }
    }
}

private func fetchDigest(_ name: String, fallback: () -> OpaquePointer) -> OpaquePointer {
    EVP_MD_fetch(nil, name, nil) ?? fallback()
}

// Fetched once, never freed: they live as long as the process, as the provider does.
nonisolated(unsafe) private let fetchedSHA256: OpaquePointer = fetchDigest("SHA256") { EVP_sha256() }
nonisolated(unsafe) private let fetchedSHA384: OpaquePointer = fetchDigest("SHA384") { EVP_sha384() }
nonisolated(unsafe) private let fetchedSHA512: OpaquePointer = fetchDigest("SHA512") { EVP_sha512() }
