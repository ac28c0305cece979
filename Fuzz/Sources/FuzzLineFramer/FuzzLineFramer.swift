import NIOCore
@testable import AuthzServer

/// The daemon's line framer against a model of SPEC §3: whatever the stream and however it is
/// split into reads, every line gets exactly one event, in order: the line's bytes (without
/// `\n` and one trailing `\r`) when they fit in `max_line_bytes`, else `tooLong`. A last line
/// without a newline (the client half-closed) counts as a line.
///
/// Input: byte 0 picks the limit (1...64), byte 1 seeds the read sizes, the rest is the stream.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLineFramer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 2, let data else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let limit = Int(input[0] % 64) + 1
    var seed = UInt32(input[1]) &* 2_654_435_761 | 1
    let stream = Array(input[2...])

    var framer = LineFramer(maxLineBytes: limit)
    var events: [Expected] = []
    var offset = 0
    while offset < stream.count {
        seed = seed &* 1_103_515_245 &+ 12_345
        let length = min(stream.count - offset, Int(seed >> 16) % (2 * limit + 3) + 1)
        var read = ByteBufferAllocator().buffer(capacity: length)
        read.writeBytes(stream[offset..<(offset + length)])
        offset += length
        framer.feed(&read) { event in
            switch event {
            case .line(let line): events.append(.line(Array(line.readableBytesView)))
            case .tooLong: events.append(.tooLong)
            }
        }
        guard read.readableBytes == 0 else { fatalError("feed left \(read.readableBytes) bytes unread") }
    }
    switch framer.takeUnterminatedLine() {
    case .line(let line): events.append(.line(Array(line.readableBytesView)))
    case .tooLong: events.append(.tooLong)
    case nil: break
    }
    guard !framer.hasPartialLine else { fatalError("a partial line survived the end of the stream") }

    for case .line(let bytes) in events {
        guard bytes.count <= limit else { fatalError("a line of \(bytes.count) bytes passed a limit of \(limit)") }
        guard !bytes.contains(0x0A) else { fatalError("a line contains a newline") }
    }
    let expected = model(stream, limit: limit)
    guard events == expected else {
        fatalError("limit \(limit): framer gave \(events), the model \(expected)")
    }
    return 0
}

enum Expected: Equatable {
    case line([UInt8])
    case tooLong
}

/// SPEC §3 read literally, on the whole stream at once.
func model(_ stream: [UInt8], limit: Int) -> [Expected] {
    var pieces = stream.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
    // After a final newline there is no further line.
    if pieces.last?.isEmpty == true { pieces.removeLast() }
    return pieces.map { piece in
        var line = piece
        if line.last == 0x0D { line.removeLast() }
        return line.count > limit ? .tooLong : .line(line)
    }
}
