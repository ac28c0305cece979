public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Chooses where the daemon's logs go, as `[log] target` in the configuration says.
public enum AuthzLogging {
    /// The `[log] target` values.
    public enum Target: String, Sendable, CaseIterable {
        /// The journal when systemd runs us, stderr otherwise.
        case auto
        /// Native journal records (``JournalLogHandler``).
        case journal
        /// One line per record on stderr (``StderrLogHandler``).
        case stderr
    }

    /// Resolves ``Target/auto``: the journal when systemd started us, which it tells by setting
    /// `JOURNAL_STREAM` (stderr goes to the journal) or `INVOCATION_ID` (any unit), else stderr.
    /// - Parameter environment: the variables to look at; the process environment when `nil`.
    /// - Returns: ``Target/journal`` or ``Target/stderr``, never ``Target/auto``.
    public static func resolve(_ target: Target, environment: [String: String]? = nil) -> Target {
        guard target == .auto else { return target }
        let underSystemd: Bool
        if let environment {
            underSystemd = environment["JOURNAL_STREAM"] != nil || environment["INVOCATION_ID"] != nil
        } else {
            underSystemd = getenv("JOURNAL_STREAM") != nil || getenv("INVOCATION_ID") != nil
        }
        return underSystemd ? .journal : .stderr
    }

    /// A factory for `LoggingSystem.bootstrap`, with the target resolved once, now.
    /// - Parameters:
    ///   - target: `auto`, `journal` or `stderr`; an unknown value is taken as `auto` (configuration
    ///     validation is where a bad value is reported).
    ///   - level: the lowest level written.
    ///   - syslogIdentifier: `SYSLOG_IDENTIFIER` of journal records.
    public static func makeHandlerFactory(target: String, level: Logger.Level,
                                          syslogIdentifier: String = "authzd")
        -> @Sendable (String) -> any LogHandler
    {
        makeHandlerFactory(target: Target(rawValue: target) ?? .auto, level: level,
                           syslogIdentifier: syslogIdentifier)
    }

    /// A factory for `LoggingSystem.bootstrap`, with the target resolved once, now.
    public static func makeHandlerFactory(target: Target, level: Logger.Level,
                                          syslogIdentifier: String = "authzd")
        -> @Sendable (String) -> any LogHandler
    {
        switch resolve(target) {
        case .journal:
            return { label in
                JournalLogHandler(label: label, syslogIdentifier: syslogIdentifier, logLevel: level)
            }
        default:
            return { label in StderrLogHandler(label: label, logLevel: level) }
        }
    }

    /// Bootstraps swift-log with ``makeHandlerFactory(target:level:syslogIdentifier:)-(String,_,_)``.
    /// swift-log allows this once per process.
    public static func bootstrap(target: String, level: Logger.Level, syslogIdentifier: String = "authzd") {
        LoggingSystem.bootstrap(makeHandlerFactory(target: target, level: level,
                                                   syslogIdentifier: syslogIdentifier))
    }
}
