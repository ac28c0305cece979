/// One header as it travels on the wire (SPEC §3): in a check line's `headers` object, or in an
/// answer's. Names in a check line are lowercase; an answer's are as authzd wrote them.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
