import AuthzWire
import NIOCore

/// One benchmark connection. Closed loop: keeps `depth` requests in flight, refilling once per
/// read with as many as were answered. Rate mode: sends what the loop's ticker says is due,
/// holding requests back (and timing them from when they were due) while `depth` are in flight.
/// Answers must come back in request order with the ids sent; anything else is an error.
final class LoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: BenchLoop
    private var context: ChannelHandlerContext?
    /// When each request in flight started counting, oldest first (ids are consecutive).
    private var inFlight = CircularBuffer<UInt64>(initialCapacity: 16)
    /// Rate mode: due times of requests waiting for a free slot.
    private var backlog = CircularBuffer<UInt64>(initialCapacity: 16)
    private var nextID: UInt64 = 1
    private var expectedID: UInt64 = 1
    private var carry: ByteBuffer?
    private var out: ByteBuffer?
    private var answeredInRead = 0
    private var closing = false
    /// Set by the loop's ticker when this connection has unflushed requests.
    var dirty = false

    /// A line longer than this is not an answer from authzd; the connection is given up.
    private static let maxLineBytes = 1 << 20

    init(state: BenchLoop) {
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        state.register(self)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closing {
            // The daemon closed a connection it should have kept open.
            state.recordError()
            closing = true
        }
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !closing { state.recordError() }
        closing = true
        context.close(promise: nil)
    }

    /// Closed loop: fills the pipeline.
    func start() {
        guard state.rate == nil, !closing, context != nil else { return }
        let now = BenchLoop.now()
        for _ in inFlight.count..<state.depth { send(startedAt: now) }
        flush()
    }

    /// Rate mode: one request is due now. Returns true when it has to wait for a slot.
    func due(at time: UInt64) -> Bool {
        guard !closing, context != nil else { return false }
        if inFlight.count < state.depth && backlog.isEmpty {
            send(startedAt: time)
            return false
        }
        backlog.append(time)
        return true
    }

    private func send(startedAt time: UInt64) {
        guard let context else { return }
        if out == nil { out = context.channel.allocator.buffer(capacity: 4096) }
        state.workload.write(id: nextID, sequence: state.nextSequence(), into: &out!)
        nextID += 1
        inFlight.append(time)
    }

    func flush() {
        dirty = false
        guard let buffer = out, let context else { return }
        out = nil
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func close() -> EventLoopFuture<Void> {
        closing = true
        guard let context else { return state.loop.makeSucceededVoidFuture() }
        return context.close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var previous = carry {
            carry = nil
            previous.writeBuffer(&buffer)
            buffer = previous
        }
        let now = BenchLoop.now()
        while let newline = buffer.readableBytesView.firstIndex(of: 0x0A) {
            let length = newline - buffer.readerIndex
            buffer.withUnsafeReadableBytes { raw in
                answer(UnsafeRawBufferPointer(rebasing: raw[0..<length]), at: now)
            }
            buffer.moveReaderIndex(forwardBy: length + 1)
        }
        if buffer.readableBytes > 0 {
            guard buffer.readableBytes <= Self.maxLineBytes else {
                state.recordError()
                closing = true
                context.close(promise: nil)
                return
            }
            carry = buffer
        }
    }

    private func answer(_ line: UnsafeRawBufferPointer, at now: UInt64) {
        guard let started = inFlight.popFirst() else {
            state.recordError()  // an answer to nothing
            return
        }
        let summary = AnswerSummary.scan(line)
        let inOrder = summary?.id == expectedID
        expectedID += 1
        state.recordAnswer(latencyNanos: now &- started, allow: inOrder ? summary?.allow : nil)
        answeredInRead += 1
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let answered = answeredInRead
        answeredInRead = 0
        if state.running && !closing {
            if state.rate == nil {
                if answered > 0 {
                    let now = BenchLoop.now()
                    for _ in 0..<answered { send(startedAt: now) }
                }
            } else {
                while inFlight.count < state.depth, let due = backlog.popFirst() {
                    send(startedAt: due)
                }
            }
            flush()
        }
        context.fireChannelReadComplete()
    }
}
