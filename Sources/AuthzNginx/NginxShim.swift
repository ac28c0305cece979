import AuthzCore
import AuthzMetrics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
internal import Glibc
#endif

/// The listen socket's mode or group could not be set.
struct ListenModeError: Error, CustomStringConvertible {
    let path: String
    let action: String
    let errno: Int32
    var description: String { "cannot \(action) \(path): \(String(cString: strerror(errno)))" }
}

/// `--listen-group` names no group on this system.
struct UnknownGroupError: Error, CustomStringConvertible {
    let name: String
    var description: String { "--listen-group: no group named \"\(name)\"" }
}

/// The running shim: an HTTP/1.1 server for nginx `auth_request` plus its pool to authzd.
public final class NginxShim: Sendable {
    /// Log levels `--log-level` accepts, lowest first.
    public static let logLevels: [String] = Logger.Level.allCases.map(\.rawValue)

    /// What the command line sets.
    public struct Configuration: Sendable {
        /// authzd's Unix socket.
        public var upstreamSocketPath: String
        /// Where nginx reaches the shim.
        public var listen: ListenAddress
        /// How long a check may wait for authzd before nginx gets a 503.
        public var timeout: Duration
        /// Persistent connections to authzd.
        public var connections: Int
        /// Checks one connection may have in flight before more are refused with 503.
        public var maxInFlightPerConnection: Int
        /// Permissions of a Unix listen socket (nginx's workers must be able to connect).
        public var listenMode: UInt32
        /// Group given to a Unix listen socket (e.g. `www-data`, nginx's); nil keeps the process's.
        public var listenGroup: String?
        /// authzd's `max_line_bytes`: a check line longer than this is answered 431 and never sent,
        /// and a request head longer than this is answered 431 and its connection closed.
        public var maxLineBytes: Int
        /// A connection must send a complete request (head and any body) within this long of
        /// opening, or of its first byte after an idle period.
        public var headerTimeout: Duration
        /// A keep-alive connection idle this long between requests is closed. Longer than nginx's
        /// upstream `keepalive_timeout` (60 s by default), so nginx closes first.
        public var idleTimeout: Duration
        /// nginx-side connections open at once; more are closed as soon as they are accepted.
        public var maxConnections: Int
        /// How often an idle connection to authzd sends a `ping` (authzd closes idle clients).
        public var upstreamPingInterval: Duration
        /// Where `GET /metrics` and `GET /healthz` are served (`--metrics-listen`); nil: nowhere.
        public var metricsListen: MetricsListenAddress? = nil

        public init(
            upstreamSocketPath: String, listen: ListenAddress, timeout: Duration = .seconds(2), connections: Int = 4,
            maxInFlightPerConnection: Int = 1024, listenMode: UInt32 = 0o660, listenGroup: String? = nil,
            maxLineBytes: Int = 65536, headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(75),
            maxConnections: Int = 4096, upstreamPingInterval: Duration = .seconds(60)
        ) {
            self.upstreamSocketPath = upstreamSocketPath
            self.listen = listen
            self.timeout = timeout
            self.connections = connections
            self.maxInFlightPerConnection = maxInFlightPerConnection
            self.listenMode = listenMode
            self.listenGroup = listenGroup
            self.maxLineBytes = maxLineBytes
            self.headerTimeout = headerTimeout
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
            self.upstreamPingInterval = upstreamPingInterval
        }
    }

    /// The pool the server asks; exposed so callers can watch or reuse it.
    public let pool: UpstreamPool
    private let serverChannel: Channel

    private init(pool: UpstreamPool, serverChannel: Channel) {
        self.pool = pool
        self.serverChannel = serverChannel
    }

    /// An event loop group sized so that every loop owns at least one upstream connection.
    public static func makeEventLoopGroup(connections: Int) -> MultiThreadedEventLoopGroup {
        MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(System.coreCount, connections)))
    }

    /// Binds the listener and starts connecting to authzd. The shim serves right away; until
    /// authzd is reachable every check is answered 503.
    public static func start(configuration: Configuration, group: EventLoopGroup, logger: Logger,
                             metrics: ShimMetrics? = nil) async throws -> NginxShim {
        let pool = UpstreamPool(
            socketPath: configuration.upstreamSocketPath, group: group, connections: configuration.connections,
            timeout: TimeAmount(configuration.timeout), maxInFlightPerConnection: configuration.maxInFlightPerConnection,
            maxLineBytes: configuration.maxLineBytes, pingInterval: TimeAmount(configuration.upstreamPingInterval),
            logger: logger)
        pool.start()
        let refusalLogs = Dictionary(
            uniqueKeysWithValues: group.makeIterator().map { (ObjectIdentifier($0), RefusalLog(logger: logger)) })
        // The decoder counts the request line and every header name and value; a head longer than
        // a check line may be could never be answered anything but 431 anyway.
        let limits = {
            var l = NIOHTTPDecoderLimitConfiguration()
            l.maxHeaderFieldSize = configuration.maxLineBytes
            l.maxHeaderListSize = configuration.maxLineBytes
            return l
        }()
        let headerTimeout = TimeAmount(configuration.headerTimeout)
        let idleTimeout = TimeAmount(configuration.idleTimeout)
        let maxConnections = configuration.maxConnections
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Out of file descriptors, accepting again at once would spin: back off instead.
                    try channel.pipeline.syncOperations.addHandlers(
                        AcceptBackoffHandler(), ConnectionLimiter(maxConnections: maxConnections, logger: logger))
                }
            }
            // TCP_NODELAY is a TCP-level option: `.socketOption(.tcp_nodelay)` set option 1 at
            // SOL_SOCKET, which is SO_DEBUG, refused (EACCES) to every user but root, and that
            // failure reset each accepted connection. NIO skips it on Unix sockets.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let timeouts = ConnectionTimeoutHandler(headerTimeout: headerTimeout, idleTimeout: idleTimeout, logger: logger)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(timeouts)
                    // Only NIO's request decoder: NIO's error handler would answer every parse error
                    // 400 (AuthRequestHandler tells a head that is too large, 431, from one that is
                    // not HTTP); its pipelining helper would take the socket out of epoll's read set
                    // and back for every request (AuthRequestHandler keeps pipelined answers in order
                    // itself); and AuthRequestHandler writes whole responses as bytes from headers
                    // that are fixed or checked by AuthResponse, so neither the response encoder nor
                    // the outbound header validator has anything to do.
                    try sync.addHandler(ByteToMessageHandler(
                        HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits)))
                    // Accepted connections run on the loops of `group`, each of which has its log.
                    let refusals = refusalLogs[ObjectIdentifier(channel.eventLoop)]!
                    try sync.addHandler(AuthRequestHandler(pool: pool, timeouts: timeouts, refusals: refusals, logger: logger,
                                                           metrics: metrics))
                }
            }
        let channel: Channel
        do {
            switch configuration.listen {
            case .unix(let path):
                // Until its mode and group are set, the socket is the owner's alone, whatever the
                // umask: bind creates it under the umask, and nothing else creates files now.
                let umaskBefore = umask(0o077)
                defer { umask(umaskBefore) }
                channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
                // The mode and group are set explicitly rather than left to the umask and the
                // process's primary group (a DynamicUser's is its own, which nginx is not in).
                do {
                    try Self.setOwnership(path: path, mode: configuration.listenMode, group: configuration.listenGroup)
                } catch {
                    try? await channel.close()
                    unlink(path)
                    throw error
                }
            case .tcp(let host, let port):
                channel = try await bootstrap.bind(host: host, port: port).get()
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        logger.info(
            "authzd-nginx listening",
            metadata: [
                "listen": "\(configuration.listen)", "upstream": "\(configuration.upstreamSocketPath)",
                "connections": "\(configuration.connections)", "max_connections": "\(configuration.maxConnections)",
                "max_line_bytes": "\(configuration.maxLineBytes)",
            ])
        return NginxShim(pool: pool, serverChannel: channel)
    }

    /// Gives a Unix listen socket its group (when named) and mode.
    static func setOwnership(path: String, mode: UInt32, group: String?) throws {
        if let group {
            guard let entry = getgrnam(group) else { throw UnknownGroupError(name: group) }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                // EPERM: a process that is not root may only give its own groups.
                throw ListenModeError(path: path, action: "give group \(group) (the shim must be a member) to", errno: errno)
            }
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw ListenModeError(path: path, action: "chmod", errno: errno)
        }
    }

    /// The bound address (with the real port when listening on port 0).
    public var localAddress: SocketAddress? { serverChannel.localAddress }

    /// Closes the listener; ``waitUntilClosed()`` returns once it has closed.
    public func stopAccepting() {
        serverChannel.close(promise: nil)
    }

    /// Stops accepting, then closes the connections to authzd.
    public func stop() async {
        try? await serverChannel.close()
        await pool.shutdown()
    }

    /// Returns when the listener has closed.
    public func waitUntilClosed() async {
        try? await serverChannel.closeFuture.get()
    }
}
