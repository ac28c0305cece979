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

    /// The built-in digest object; static in OpenSSL, so never freed.
    var evpMD: OpaquePointer {
        switch self {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }
}
