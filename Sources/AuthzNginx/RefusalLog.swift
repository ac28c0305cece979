import Logging
import NIOCore

/// Logs the subrequests the shim answers itself (400, 431) without letting a client flood the log:
/// each one at debug level, and a warning with a count at most once per `interval`. One per event
/// loop, touched only on that loop (hence `@unchecked Sendable`, like the pool's shards).
final class RefusalLog: @unchecked Sendable {
    private let logger: Logger
    private var throttle: LogThrottle

    init(logger: Logger, interval: TimeAmount = .seconds(10)) {
        self.logger = logger
        self.throttle = LogThrottle(interval: interval)
    }

    /// Records one refusal. Values in `metadata` must already be escaped (see `SubrequestError`).
    func refused(status: Int, _ problem: String, metadata: Logger.Metadata = [:]) {
        var metadata = metadata
        metadata["status"] = "\(status)"
        metadata["problem"] = "\(problem)"
        logger.debug("refused a subrequest", metadata: metadata)
        if let count = throttle.record(now: .now()) {
            metadata["refused"] = "\(count)"
            logger.warning("refused malformed or oversized subrequests without asking authzd", metadata: metadata)
        }
    }
}
