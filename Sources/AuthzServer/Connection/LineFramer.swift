import NIOCore

/// Splits a byte stream into lines of at most `maxLineBytes`, without copying complete lines
/// that arrive in one read. An overlong line is reported once and skipped up to its newline,
/// so one bad client line never desynchronises the stream.
struct LineFramer {
    enum Event: Equatable {
        case line(ByteBuffer)
        case tooLong
    }

    let maxLineBytes: Int
    /// Bytes of an unfinished line carried over from earlier reads.
    private var partial: ByteBuffer?
    /// Skipping the rest of an overlong line.
    private var discarding = false

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds one read; calls `emit` for each complete line (without its `\n`) or overlong line.
    mutating func feed(_ input: inout ByteBuffer, _ emit: (Event) -> Void) {
        while let event = next(&input) { emit(event) }
    }

    /// The next complete line (without its `\n`) or overlong line in `input`, consuming it; nil
    /// once `input` is used up, an unfinished line being kept for the next read. A caller that
    /// pulls lines one at a time may act on each (answer it, pause reading) before the next.
    mutating func next(_ input: inout ByteBuffer) -> Event? {
        while input.readableBytes > 0 {
            let newline = input.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
            if discarding {
                guard let nl = newline else {
                    input.moveReaderIndex(to: input.writerIndex)
                    return nil
                }
                input.moveReaderIndex(to: nl + 1)
                discarding = false
                continue
            }
            guard let nl = newline else {
                // No newline yet: keep what we have, unless it is already too long.
                let pending = (partial?.readableBytes ?? 0) + input.readableBytes
                if pending > maxLineBytes + 1 {  // + 1: a trailing \r may still come
                    partial = nil
                    discarding = true
                    input.moveReaderIndex(to: input.writerIndex)
                    return .tooLong
                }
                if partial == nil {
                    // Own the bytes: the channel may reuse the read buffer.
                    partial = ByteBuffer(buffer: input.readSlice(length: input.readableBytes)!)
                } else {
                    partial!.writeBuffer(&input)
                }
                return nil
            }
            let length = nl - input.readerIndex
            var piece = input.readSlice(length: length)!
            input.moveReaderIndex(forwardBy: 1)
            var line = piece
            if var carried = partial {
                partial = nil
                carried.writeBuffer(&piece)
                line = carried
            }
            line = Self.trimCR(line)
            return line.readableBytes > maxLineBytes ? .tooLong : .line(line)
        }
        return nil
    }

    /// A trailing `\r` is tolerated (and does not count toward the limit).
    private static func trimCR(_ b: ByteBuffer) -> ByteBuffer {
        if b.readableBytes > 0, b.getInteger(at: b.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            return b.getSlice(at: b.readerIndex, length: b.readableBytes - 1)!
        }
        return b
    }

    /// True when a line is half-read (shutdown uses this to know nothing is lost).
    var hasPartialLine: Bool { partial != nil }

    /// True between a line's first byte and its newline, including the rest of an overlong line
    /// being skipped: the client owes a newline.
    var isMidLine: Bool { partial != nil || discarding }

    /// Forgets the unfinished line (the connection is being closed).
    mutating func dropPartialLine() {
        partial = nil
        discarding = false
    }

    /// The unterminated last line, when the client closed its side after sending it: it is
    /// still a request and gets its answer, or `tooLong` like any other line over the limit
    /// (`feed` keeps up to `maxLineBytes + 1` bytes waiting for a `\r`, so the held bytes may
    /// be one too many).
    mutating func takeUnterminatedLine() -> Event? {
        defer { partial = nil }
        guard let p = partial, p.readableBytes > 0 else { return nil }
        let line = Self.trimCR(p)
        return line.readableBytes > maxLineBytes ? .tooLong : .line(line)
    }
}

extension ByteBuffer {
    init(buffer: ByteBuffer) {
        var b = ByteBufferAllocator().buffer(capacity: buffer.readableBytes)
        var copy = buffer
        b.writeBuffer(&copy)
        self = b
    }
}
