import NIOCore

extension UpstreamPool {
    /// Whether authzd answers: a `ping` over the pool's connections, tried one after another
    /// until one is answered. Succeeds on the first answer; fails with the last connection's
    /// error when none answers (each within the pool's timeout). For `/healthz`.
    public func ping(on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        ping(from: 0, on: eventLoop, lastError: nil)
    }

    private func ping(from index: Int, on eventLoop: EventLoop, lastError: (any Error)?) -> EventLoopFuture<Void> {
        guard index < all.count else {
            return eventLoop.makeFailedFuture(lastError ?? UpstreamError(.notConnected, "no connection to authzd"))
        }
        let connection = all[index]
        return connection.eventLoop.flatSubmit { connection.ping() }
            .hop(to: eventLoop)
            .flatMapError { error in self.ping(from: index + 1, on: eventLoop, lastError: error) }
    }
}
