import NIOCore

/// Splits authzd's answer stream into lines (without the `\n`).
///
/// A line longer than `maxLength` means the stream is not what SPEC §3 promises; the decoder
/// throws so the connection is dropped and re-established instead of buffering without bound.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct LineTooLong: Error {}

    let maxLength: Int
    /// Bytes already scanned without finding a newline, so each byte is looked at once.
    private var scanned = 0

    init(maxLength: Int) {
        self.maxLength = maxLength
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let start = view.index(view.startIndex, offsetBy: scanned)
        guard let nl = view[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            if scanned > maxLength { throw LineTooLong() }
            return .needMoreData
        }
        let length = nl - view.startIndex
        scanned = 0
        if length > maxLength { throw LineTooLong() }
        let line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial last line has no answer in it worth keeping; the connection is going away.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
