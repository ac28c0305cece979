/// Why a cryptographic operation was refused.
///
/// Messages describe the problem ("EC point is not on P-256") and never contain key material.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is. A struct wrapping a private enum so that codes can be added
    /// without breaking callers that switch over them.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidKey
            case unsupported
            case internalFailure
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The key material is malformed or mathematically invalid.
        public static let invalidKey = Code(.invalidKey)
        /// The key type, size or parameter is not supported.
        public static let unsupported = Code(.unsupported)
        /// OpenSSL failed for a reason unrelated to the input (typically out of memory).
        public static let internalFailure = Code(.internalFailure)

        public var description: String {
            switch base {
            case .invalidKey: "invalidKey"
            case .unsupported: "unsupported"
            case .internalFailure: "internalFailure"
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
