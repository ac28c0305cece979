import AuthzCore
import AuthzSystemd
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The daemon's socket: takes the one systemd passed (`LISTEN_FDS`) or places its own (mode,
/// group, never taking over a live daemon's), admits connections (`max_connections`,
/// `allowed_uids`), and holds READY back until start-up fetches are done. On graceful shutdown
/// it stops accepting, lets every connection answer the lines it has read (5 s at most), shuts
/// the shared resources down and removes its socket file.
struct SocketServerService: Service {
    let group: any EventLoopGroup
    let loops: [LoopState]
    let shared: ServerShared
    let store: ConfigurationStore
    let events: ConnectionEvents
    /// Signalled once the socket listens and start-up work is done.
    let ready: OnceEvent
    let logger: Logger
    /// How long connections have to finish their answers once shutdown begins.
    var drainTimeout: TimeAmount = .seconds(5)
    /// How often refused and closed connections are summarized in the log (ConnectionEvents).
    var summaryPeriod: Duration = .seconds(60)

    func run() async throws {
        let (serverChannel, socketFile) = try await listen()
        let service = self
        await cancelWhenGracefulShutdown { await service.waitForStartup() }
        ready.signal()
        await cancelWhenGracefulShutdown { await service.summarizeConnections() }

        await drain(serverChannel)
        shared.resources.shutdownAll()
        if let socketFile, !socketFile.removeIfStillOurs() {
            logger.notice("did not remove \(socketFile.path): it is gone or no longer this daemon's socket")
        }
    }

    // MARK: - Listening

    private func listen() async throws -> (any Channel, SocketFile?) {
        var byLoop: [ObjectIdentifier: LoopState] = [:]
        for state in loops { byLoop[ObjectIdentifier(state.eventLoop)] = state }
        let loopStates = byLoop
        let shared = self.shared
        let events = self.events
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                Self.admit(channel, loopStates: loopStates, shared: shared, events: events, logger: logger)
            }

        if let fd = ListenFDs.take().first {
            let channel: any Channel
            do {
                channel = try await bootstrap.withBoundSocket(fd).get()
            } catch {
                throw DaemonError("cannot listen on the socket passed by systemd (fd \(fd)): \(error)")
            }
            logger.info("listening on the socket passed by systemd (fd \(fd))")
            return (channel, nil)
        }
        let server = store.configuration.server
        let placed: (channel: any Channel, file: SocketFile)
        do {
            placed = try await SocketFile.place(path: server.socket, mode: server.socketMode, group: server.socketGroup) {
                try await bootstrap.bind(unixDomainSocketPath: $0).get()
            }
        } catch let error as DaemonError {
            throw error
        } catch {
            throw DaemonError("cannot listen: \(error)")
        }
        store.socketPlaced(at: server.socket)
        logger.info("listening on \(server.socket)")
        return (placed.channel, placed.file)
    }

    /// Admits an accepted connection, on its event loop: at most `max_connections` open, and
    /// only peers in `allowed_uids` when that is set; the rest are closed at once.
    static func admit(_ channel: any Channel, loopStates: [ObjectIdentifier: LoopState], shared: ServerShared,
                      events: ConnectionEvents, logger: Logger) -> EventLoopFuture<Void> {
        guard let state = loopStates[ObjectIdentifier(channel.eventLoop)] else {
            return channel.close()
        }
        let settings = state.runtime.configuration.server
        let count = shared.connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
        let id = ObjectIdentifier(channel)
        channel.closeFuture.whenComplete { _ in
            shared.connectionCount.subtract(1, ordering: .relaxed)
            _ = shared.channels.withLock { $0.removeValue(forKey: id) }
        }
        guard count <= settings.maxConnections else {
            events.record(.overLimit, logger: logger, level: .warning,
                          "refused a connection: max_connections (\(settings.maxConnections)) are open")
            return channel.close()
        }
        let addHandler: @Sendable () -> EventLoopFuture<Void> = {
            shared.channels.withLock { $0[id] = channel }
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ConnectionHandler(loop: state, shared: shared, settings: settings, events: events))
            }
        }
        guard !settings.allowedUIDs.isEmpty else { return addHandler() }
        return PeerCredentials.uid(of: channel).flatMap { uid in
            if let uid, settings.allowedUIDs.contains(uid) { return addHandler() }
            events.record(.peerNotAllowed, logger: logger, level: .warning,
                          "refused a connection from uid \(uid.map(String.init) ?? "unknown"): not in allowed_uids")
            return channel.close()
        }
    }

    // MARK: - Start-up

    /// Returns when every resource with start-up work (a JWKS source's first fetch) has finished
    /// it, or after the longest `maxStartupWait` among them; requests are answered meanwhile.
    private func waitForStartup() async {
        let waiting = shared.resources.all.compactMap { $0.resource as? any StartupWaiting }
        guard !waiting.isEmpty else { return }
        let started = waiting.map { resource in
            let event = OnceEvent()
            resource.whenStarted { event.signal() }
            return event
        }
        let limit = waiting.map(\.maxStartupWait).max() ?? 0
        let allStarted = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    for event in started { try await event.wait() }
                    return true
                } catch {
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(limit))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !allStarted && !Task.isCancelled {
            logger.warning("some remote sources had not answered after \(limit) s; ready without them")
        }
    }

    // MARK: - Serving and stopping

    /// Closed and refused connections: one summary line a period at most (see ConnectionEvents).
    private func summarizeConnections() async {
        let seconds = Int(summaryPeriod.components.seconds)
        await every(summaryPeriod) {
            events.summarize(settings: store.configuration.server, seconds: seconds, logger: logger)
        }
    }

    /// Stops accepting, asks every open connection to answer what it has read and close, and
    /// returns when all have closed or `drainTimeout` has passed (the rest are closed then).
    private func drain(_ serverChannel: any Channel) async {
        try? await serverChannel.close().get()
        let open = shared.channels.withLock { Array($0.values) }
        guard !open.isEmpty else { return }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        let loop = group.next()
        let deadline = loop.scheduleTask(in: drainTimeout) {
            for channel in open { channel.close(promise: nil) }
        }
        try? await EventLoopFuture.andAllComplete(open.map(\.closeFuture), on: loop).get()
        deadline.cancel()
    }
}
