/// A `.properties` file that `java.util.Properties.load` would refuse (it throws for the whole
/// file, so Ant Media could not have started the app with it either).
public struct JavaPropertiesError: Error, Sendable, Equatable {
    /// The line where the offending logical line starts.
    public let line: Int
    public let message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
}
