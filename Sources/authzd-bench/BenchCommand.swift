import ArgumentParser
import AuthzJSON
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// `authzd-bench`: drives an authzd socket (or anything speaking its protocol) with pipelined
/// check requests and reports decisions per second and latency percentiles.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authzd-bench",
        abstract: "Load generator for the authzd socket protocol.",
        discussion: """
            N connections each keep D pipelined check requests in flight (closed loop), or, with \
            --rate, requests are paced to R per second in total and timed from when they were due. \
            Answers must be JSON objects with the id sent, in order; anything else is an error.
            """)

    @Option(help: "Unix socket path of the server.")
    var socket: String

    @Option(help: "App to ask about.")
    var app: String?

    @Option(name: .customLong("apps-prefix"), help: "Spread requests over apps named PREFIX0..PREFIX(K-1).")
    var appsPrefix: String?

    @Option(name: .customLong("apps-count"), help: "K for --apps-prefix.")
    var appsCount: Int = 1

    @Option(name: .customLong("token"), help: "A token to send (repeatable; used in turn).")
    var tokens: [String] = []

    @Option(name: .customLong("token-file"), help: "File with one token per line (used in turn).")
    var tokenFile: String?

    @Option(help: "remote_addr sent with each request.")
    var ip: String = "127.0.0.1"

    @Option(help: "Concurrent connections.")
    var connections: Int = 16

    @Option(help: "Requests in flight per connection (the most in flight, with --rate).")
    var depth: Int = 16

    @Option(help: "Seconds measured.")
    var duration: Double = 5

    @Option(help: "Seconds run before measuring (caches, connection set-up).")
    var warmup: Double = 1

    @Option(help: "Pace requests to this many per second in total (open loop).")
    var rate: Double?

    @Option(help: "Client event loop threads; 1 leaves the other core to the server on a 2-core machine.")
    var threads: Int = 1

    @Option(help: "A name for this run, echoed in the output.")
    var label: String?

    @Flag(help: "Print one JSON line instead of a table.")
    var json = false

    func validate() throws {
        guard (app == nil) != (appsPrefix == nil) else {
            throw ValidationError("give exactly one of --app and --apps-prefix")
        }
        guard appsCount >= 1 else { throw ValidationError("--apps-count must be at least 1") }
        guard connections >= 1, depth >= 1, threads >= 1 else {
            throw ValidationError("--connections, --depth and --threads must be at least 1")
        }
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be positive") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() throws {
        var allTokens = tokens
        if let tokenFile { allTokens += try readLines(tokenFile) }
        let apps = appsPrefix.map { p in (0..<appsCount).map { "\(p)\($0)" } } ?? [app!]
        let workload = Workload(apps: apps, tokens: allTokens, ip: ip)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let loops = Array(group.makeIterator())
        let states = loops.map {
            BenchLoop(loop: $0, workload: workload, depth: depth, rate: rate.map { $0 / Double(loops.count) })
        }

        try connect(states: states)
        for s in states { s.loop.execute { s.start() } }
        sleep(seconds: warmup)
        for s in states { try s.loop.submit { s.beginWindow() }.wait() }
        sleep(seconds: duration)
        var total = WindowSnapshot.empty()
        for s in states { total.add(try s.loop.submit { s.endWindow() }.wait()) }
        for s in states { try s.loop.flatSubmit { s.stop() }.wait() }

        let report = Report(label: label, window: total, connections: connections, depth: depth,
                            duration: duration, rate: rate, apps: apps.count, tokens: allTokens.count)
        print(json ? report.jsonLine : report.table)
    }

    /// Opens the connections in batches: a Unix socket refuses connects (EAGAIN) once the
    /// server's accept backlog is full, which a thousand simultaneous connects would do.
    private func connect(states: [BenchLoop]) throws {
        let batch = 64
        var opened = 0
        while opened < connections {
            let n = min(batch, connections - opened)
            var futures: [EventLoopFuture<any Channel>] = []
            for k in opened..<(opened + n) {
                let state = states[k % states.count]
                let bootstrap = ClientBootstrap(group: state.loop)
                    .channelOption(.socketOption(.so_sndbuf), value: 1 << 18)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(LoadHandler(state: state))
                        }
                    }
                futures.append(bootstrap.connect(unixDomainSocketPath: socket))
            }
            for f in futures { _ = try f.wait() }
            opened += n
        }
    }

    private func readLines(_ path: String) throws -> [String] {
        guard let file = fopen(path, "r") else { throw ValidationError("cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes.split(separator: 0x0A).compactMap { line in
            var l = line
            if l.last == 0x0D { l = l.dropLast() }
            return l.isEmpty ? nil : String(decoding: l, as: UTF8.self)
        }
    }

    private func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var left = timespec()
        while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
    }
}
