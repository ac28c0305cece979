/// Why authzd gave no usable answer. Every code but `lineTooLong` is answered to nginx the same way
/// (503 `upstream_unavailable`, failing closed); the code is for the log.
public struct UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct over a private enum so codes can be added without breaking users.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: Hashable {
            case notConnected, connectionLost, timeout, overloaded, badAnswer, shutdown, lineTooLong
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// No connection to authzd is up right now.
        public static let notConnected = Code(.notConnected)
        /// The connection closed while the request was in flight.
        public static let connectionLost = Code(.connectionLost)
        /// No answer within the configured bound.
        public static let timeout = Code(.timeout)
        /// Too many requests already in flight on the connection.
        public static let overloaded = Code(.overloaded)
        /// authzd answered something that is not a SPEC §3 answer, or out of order.
        public static let badAnswer = Code(.badAnswer)
        /// The shim is shutting down.
        public static let shutdown = Code(.shutdown)
        /// The check line would be longer than authzd accepts (`--max-line-bytes`); it was not
        /// sent, and the subrequest is answered 431 rather than 503 since retrying cannot help.
        public static let lineTooLong = Code(.lineTooLong)

        public var description: String {
            switch value {
            case .notConnected: "not_connected"
            case .connectionLost: "connection_lost"
            case .timeout: "timeout"
            case .overloaded: "overloaded"
            case .badAnswer: "bad_answer"
            case .shutdown: "shutdown"
            case .lineTooLong: "line_too_long"
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
