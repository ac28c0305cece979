import AuthzMetrics
import Logging
import NIOCore
import NIOHTTP1

/// Answers nginx `auth_request` subrequests on one connection, in the order they came. The
/// mapping both ways lives in `SubrequestMapping` and `AuthResponse`.
///
/// nginx sends one subrequest at a time on an upstream keep-alive connection, so the common case
/// is one request in hand and reads left on (NIO's pipelining helper would take the socket out of
/// epoll's read set and put it back for every request). A client that pipelines anyway gets its
/// answers in request order: answers that finish early wait in `queue` behind the oldest. That
/// client is bounded: at most `maxChecksInFlight` of its checks are with authzd at once (the
/// others wait here, mapped but not sent), and once `maxQueued` requests are waiting the
/// connection stops reading until answers drain.
///
/// What the shim can judge alone it answers alone, leaving the pooled connections to authzd
/// untouched: malformed mapping headers get 400, and a head or check line longer than authzd
/// accepts gets 431 (a head over the decoder's limit also closes the connection, since the rest
/// of its bytes cannot be framed).
final class AuthRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    /// Whole responses, already encoded (`AuthResponse.write`): no response encoder sits in front.
    typealias OutboundOut = ByteBuffer

    /// Checks of one connection with authzd at once; nginx itself never has more than one.
    static let maxChecksInFlight = 8
    /// Requests of one connection waiting for their answer before the connection stops reading.
    static let maxQueued = 32

    /// One request waiting for its turn to be answered.
    private struct Pending {
        var version: HTTPVersion
        var keepAlive: Bool
        /// The answer, once known.
        var response: AuthResponse?
    }

    private let pool: UpstreamPool
    private let timeouts: ConnectionTimeoutHandler?
    private let refusals: RefusalLog
    private let logger: Logger
    /// Counts answers by status and upstream errors (metrics).
    private let metrics: ShimMetrics?
    /// The request being received: its mapping (or why it has none) once its head has come.
    private var request: Result<SubrequestMapping, SubrequestError>?
    private var version = HTTPVersion.http1_1
    private var keepAlive = true
    /// Requests received and not yet answered, oldest first; `queue[0]` has number `firstNumber`.
    private var queue = CircularBuffer<Pending>(initialCapacity: 2)
    private var firstNumber = 0
    private var inFlight = 0
    /// Checks mapped but not yet sent, with their request's number: `maxChecksInFlight` were
    /// in flight when they came. Sent oldest first as room frees.
    private var waiting = CircularBuffer<(number: Int, check: SubrequestMapping)>()
    /// `sendWaitingChecks` is running (see there).
    private var sendingWaiting = false
    /// A `read` held back while the queue is full.
    private var readHeld = false
    /// A request that closes the connection (or an unframeable one) was queued: nothing after it
    /// is answered.
    private var closing = false
    /// Once the handler is gone its context must not be used by a late upstream answer.
    private var removed = false

    init(pool: UpstreamPool, timeouts: ConnectionTimeoutHandler?, refusals: RefusalLog, logger: Logger,
         metrics: ShimMetrics? = nil) {
        self.metrics = metrics
        self.pool = pool
        self.timeouts = timeouts
        self.refusals = refusals
        self.logger = logger
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func read(context: ChannelHandlerContext) {
        if queue.count >= Self.maxQueued {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            request = Result { () throws(SubrequestError) in try SubrequestMapping(head: head) }
            version = head.version
            keepAlive = head.isKeepAlive
        case .body:
            // nginx sends none (proxy_pass_request_body off); anything else is ignored.
            break
        case .end:
            guard let request, !closing else { return }
            self.request = nil
            // Only a whole request stops the head's clock: a body (nginx sends none) trickled in
            // after a complete head must not hold the connection for ever either.
            timeouts?.requestStarted()
            if !keepAlive { closing = true }
            var pending = Pending(version: version, keepAlive: keepAlive)
            let number = firstNumber + queue.count
            switch request {
            case .success(let check) where inFlight < Self.maxChecksInFlight && waiting.isEmpty:
                queue.append(pending)
                send(check, number: number, context: context)
            case .success(let check):
                queue.append(pending)
                waiting.append((number, check))
            case .failure(let error):
                refusals.refused(
                    status: 400, "\(error.code)", metadata: ["header": "\(error.header)", "value": "\(error.value)"])
                pending.response = .badRequest
                queue.append(pending)
                answerReady(context: context)
            }
        }
    }

    /// Sends request `number`'s check to authzd; its answer fills the request's place in `queue`.
    private func send(_ check: SubrequestMapping, number: Int, context: ChannelHandlerContext) {
        inFlight += 1
        pool.check(check, on: context.eventLoop).assumeIsolated().whenComplete { result in
            let response: AuthResponse
            switch result {
            case .success(let answer):
                response = AuthResponse(answer: answer)
            case .failure(let error as UpstreamError) where error.code == .lineTooLong:
                self.refusals.refused(status: 431, error.message, metadata: ["app": "\(check.app ?? "")"])
                response = .tooLarge
            case .failure(let error):
                self.logger.debug("answering 503", metadata: ["error": "\(error)", "app": "\(check.app ?? "")"])
                self.metrics?.recordUpstreamError()  // metrics
                response = .upstreamUnavailable
            }
            self.inFlight -= 1
            guard !self.removed else { return }
            let index = number - self.firstNumber
            // Gone from the queue only when the connection closed under it.
            guard index >= 0, index < self.queue.count else { return }
            self.queue[offset: index].response = response
            self.sendWaitingChecks(context: context)
            self.answerReady(context: context)
        }
    }

    /// Sends the checks that waited for room among those in flight, oldest first. A check the
    /// pool fails at once (authzd unreachable) completes inside `send` and lands here again: that
    /// inner call leaves the sending to this loop, so a long pipeline never recurses deeply.
    private func sendWaitingChecks(context: ChannelHandlerContext) {
        guard !sendingWaiting else { return }
        sendingWaiting = true
        defer { sendingWaiting = false }
        while inFlight < Self.maxChecksInFlight, !waiting.isEmpty {
            let next = waiting.removeFirst()
            send(next.check, number: next.number, context: context)
        }
    }

    /// Writes the answers at the head of the queue that are known, in order, in one buffer.
    private func answerReady(context: ChannelHandlerContext) {
        guard !removed, let first = queue.first, first.response != nil else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        var closes = false
        while let first = queue.first, let response = first.response {
            queue.removeFirst()
            firstNumber += 1
            metrics?.recordResponse(status: Int(response.status.code))  // metrics
            response.write(version: first.version, keepAlive: first.keepAlive, into: &buffer)
            if !first.keepAlive {
                // Nothing after a closing answer is answered; the connection ends once it is out.
                queue.removeAll()
                waiting.removeAll()
                closes = true
                break
            }
        }
        let written = context.writeAndFlush(Self.wrapOutboundOut(buffer))
        if closes {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        if queue.isEmpty { timeouts?.responseFinished() }
        if readHeld, queue.count < Self.maxQueued {
            readHeld = false
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A request the decoder cannot read ends the connection (its remaining bytes cannot be
        // framed), but gets an answer first, after those of the requests before it: 431 for a
        // head over the size limit, 400 for anything else that is not HTTP/1.
        if let parseError = error as? HTTPParserError, !closing, !removed {
            let tooLarge = parseError == .headerOverflow
            refusals.refused(status: tooLarge ? 431 : 400, "\(parseError)")
            closing = true
            request = nil
            queue.append(Pending(version: .http1_1, keepAlive: false, response: tooLarge ? .tooLarge : .badRequest))
            answerReady(context: context)
            return
        }
        logger.debug("closing nginx connection", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
