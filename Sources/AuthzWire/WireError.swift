/// A line that cannot be read as SPEC §3 says it must be: the other end is not speaking the
/// protocol, so what follows on that connection cannot be trusted either.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong; a struct over a private enum so that codes can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: Sendable, Hashable {
            case notJSON, notAnObject, notACheckAnswer
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The line does not parse as JSON.
        public static let notJSON = Code(.notJSON)
        /// The line is JSON but not an object.
        public static let notAnObject = Code(.notAnObject)
        /// An object where a check answer was expected, lacking a field or with one of the wrong type.
        public static let notACheckAnswer = Code(.notACheckAnswer)

        public var description: String {
            switch value {
            case .notJSON: "not_json"
            case .notAnObject: "not_an_object"
            case .notACheckAnswer: "not_a_check_answer"
            }
        }
    }

    public let code: Code
    /// For people: what was wrong with the line.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
