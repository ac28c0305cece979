import AuthzCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The metrics listener: a small HTTP/1.1 server answering `GET /metrics` (and, when given a
/// health check, `GET /healthz`) on TCP or a Unix socket.
///
/// It is an edge like the decision socket, so everything is bounded: connections open at once
/// (more are closed as soon as they are accepted), the request head's size, and how long a
/// connection may take to complete its next request. It runs on an event loop of its own, so a
/// scrape never delays a decision. Start it once and stop it once: ``start()`` / ``stop()`` from
/// synchronous code, or ``run()``, which serves until its task is cancelled.
public final class MetricsServer: Sendable {
    /// The exposition to send for `GET /metrics`; called on the listener's event loop.
    public typealias Exposition = @Sendable () -> [UInt8]
    /// Succeeds when healthy; a failure's description is sent with the 503.
    public typealias HealthCheck = @Sendable (EventLoop) -> EventLoopFuture<Void>

    /// How much one client may hold.
    public struct Limits: Sendable {
        /// Connections open at once; Prometheus needs one, a few people with curl a few more.
        public var maxConnections = 32
        /// A connection has this long, from opening or from its last answer, to send a whole request.
        public var requestTimeout: TimeAmount = .seconds(30)
        /// The longest request head (request line and headers).
        public var maxHeadBytes = 8192

        public init() {}
    }

    /// A listener that cannot start.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private struct State {
        var group: MultiThreadedEventLoopGroup?
        var channel: Channel?
        var children: [ObjectIdentifier: Channel] = [:]
        /// The Unix socket this listener created (device and inode), removed on stop if still there.
        var socketFile: (path: String, device: UInt64, inode: UInt64)?
    }

    public let listen: MetricsListenAddress
    private let limits: Limits
    private let logger: Logger
    private let exposition: Exposition
    private let health: HealthCheck?
    private let state = Mutex(State())
    private let open = Atomic<Int>(0)

    /// A listener for `listen`; nothing is bound until it starts.
    public init(listen: MetricsListenAddress, limits: Limits = Limits(), logger: Logger,
                exposition: @escaping Exposition, health: HealthCheck? = nil) {
        self.listen = listen
        self.limits = limits
        self.logger = logger
        self.exposition = exposition
        self.health = health
    }

    /// Binds and starts serving; blocks until the socket listens. Not from an event loop.
    @available(*, noasync, message: "use run() or start() async")
    public func start() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try bind(group: group).wait()
            try listening(channel, group: group)
        } catch {
            try? group.syncShutdownGracefully()
            throw StartError(description: "cannot serve metrics on \(listen): \(error)")
        }
    }

    /// Binds and starts serving.
    public func start() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try await bind(group: group).get()
            try listening(channel, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw StartError(description: "cannot serve metrics on \(listen): \(error)")
        }
    }

    /// Stops listening, closes every connection, removes the Unix socket it made. Blocks.
    @available(*, noasync, message: "use run() or stop() async")
    public func stop() {
        guard let group = closeAll() else { return }
        try? group.syncShutdownGracefully()
    }

    /// Stops listening, closes every connection, removes the Unix socket it made.
    public func stop() async {
        guard let group = closeAll() else { return }
        try? await group.shutdownGracefully()
    }

    /// Serves until the calling task is cancelled, then stops (the shape of a
    /// swift-service-lifecycle `Service`).
    public func run() async throws {
        try await start()
        let closed = state.withLock { $0.channel?.closeFuture }
        await withTaskCancellationHandler {
            try? await closed?.get()
        } onCancel: {
            state.withLock { $0.channel }?.close(promise: nil)
        }
        await stop()
    }

    /// The bound address (with the real port when the configuration asked for port 0 in tests).
    public var localAddress: SocketAddress? {
        state.withLock { $0.channel?.localAddress }
    }

    // MARK: - Binding

    private func bind(group: MultiThreadedEventLoopGroup) -> EventLoopFuture<Channel> {
        let limits = self.limits
        let exposition = self.exposition
        let health = self.health
        let decoderLimits = {
            var l = NIOHTTPDecoderLimitConfiguration()
            l.maxHeaderFieldSize = limits.maxHeadBytes
            l.maxHeaderListSize = limits.maxHeadBytes
            return l
        }()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { [self] channel in
                guard admit(channel) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: true, withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: decoderLimits)
                    try sync.addHandler(MetricsHTTPHandler(exposition: exposition, health: health,
                                                           requestTimeout: limits.requestTimeout))
                }
            }
        switch listen {
        case .tcp(let host, let port):
            return bootstrap.bind(host: host, port: port)
        case .unix(let path):
            if let problem = Self.unixPathProblem(path) {
                return group.next().makeFailedFuture(StartError(description: problem))
            }
            return bootstrap.bind(unixDomainSocketPath: path)
        }
    }

    /// Why `path` cannot take a new socket, or nil (nothing there, or a stale socket, removed):
    /// a live listener, another daemon's perhaps, is never taken over, nor a file that is not a socket.
    static func unixPathProblem(_ path: String) -> String? {
        var st = stat()
        if lstat(path, &st) != 0 {
            return errno == ENOENT ? nil : "cannot look at \(path): \(String(cString: strerror(errno)))"
        }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { return "\(path) exists and is not a socket; refusing to replace it" }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "cannot make a socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected == 0 { return "another process is listening on \(path); refusing to take it over" }
        guard errno == ECONNREFUSED else {
            return "cannot tell whether another process listens on \(path) (\(String(cString: strerror(errno)))); refusing to replace it"
        }
        // Stale: left by a process that is gone.
        guard unlink(path) == 0 || errno == ENOENT else { return "cannot remove the stale socket \(path): \(String(cString: strerror(errno)))" }
        return nil
    }

    /// Records the bound channel; a Unix socket gets mode 0660 (the owner and its group may
    /// scrape) and is remembered for removal.
    private func listening(_ channel: Channel, group: MultiThreadedEventLoopGroup) throws {
        if case .unix(let path) = listen {
            var st = stat()
            guard chmod(path, 0o660) == 0, lstat(path, &st) == 0 else {
                let problem = String(cString: strerror(errno))
                try? channel.close().wait()
                throw StartError(description: "cannot set up \(path): \(problem)")
            }
            state.withLock { $0.socketFile = (path, UInt64(st.st_dev), UInt64(st.st_ino)) }
        }
        state.withLock {
            $0.group = group
            $0.channel = channel
        }
        logger.info("serving metrics on \(listen)")
    }

    /// Counts a new connection against the cap and tracks it until it closes.
    private func admit(_ channel: Channel) -> Bool {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        let id = ObjectIdentifier(channel)
        channel.closeFuture.whenComplete { [self] _ in
            open.subtract(1, ordering: .relaxed)
            _ = state.withLock { $0.children.removeValue(forKey: id) }
        }
        guard count <= limits.maxConnections else {
            logger.debug("metrics listener: refused a connection over the cap of \(limits.maxConnections)")
            return false
        }
        state.withLock { $0.children[id] = channel }
        return true
    }

    /// Closes the listener and its connections; returns the group to shut down, nil if not running.
    private func closeAll() -> MultiThreadedEventLoopGroup? {
        let (group, channel, children, socketFile) = state.withLock { s in
            defer { s = State() }
            return (s.group, s.channel, Array(s.children.values), s.socketFile)
        }
        guard let group else { return nil }
        channel?.close(promise: nil)
        for c in children { c.close(promise: nil) }
        if let socketFile {
            var st = stat()
            if lstat(socketFile.path, &st) == 0, UInt64(st.st_dev) == socketFile.device, UInt64(st.st_ino) == socketFile.inode {
                unlink(socketFile.path)
            }
        }
        return group
    }
}
