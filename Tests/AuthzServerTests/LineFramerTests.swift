@testable import AuthzServer
import NIOCore
import Testing

/// What the framer reported: a line's text, or `nil` for an overlong line.
private func frame(_ chunks: [String], max: Int = 16) -> (events: [String?], partial: Bool) {
    var framer = LineFramer(maxLineBytes: max)
    var events: [String?] = []
    for chunk in chunks {
        var buffer = ByteBufferAllocator().buffer(string: chunk)
        framer.feed(&buffer) { event in
            switch event {
            case .line(let b): events.append(String(buffer: b))
            case .tooLong: events.append(nil)
            }
        }
        #expect(buffer.readableBytes == 0, "every read is consumed")
    }
    return (events, framer.hasPartialLine)
}

@Suite struct LineFramerTests {
    @Test func aLineSplitAcrossReadsIsJoined() {
        let r = frame(["{\"app\"", ":\"a", "\"}\n"], max: 64)
        #expect(r.events == ["{\"app\":\"a\"}"])
        #expect(!r.partial)
    }

    @Test func aLineSplitByteByByteIsJoined() {
        let text = "hello world\nsecond\n"
        #expect(frame(text.map { String($0) }).events == ["hello world", "second"])
    }

    @Test func manyLinesInOneReadAreAllEmittedInOrder() {
        #expect(frame(["a\nbb\nccc\n\nd"]).events == ["a", "bb", "ccc", ""])
        #expect(frame(["a\nbb\nccc\n\nd"]).partial)
        #expect(frame(["a\nb", "b\nc\n"]).events == ["a", "bb", "c"])
    }

    @Test func aHalfLineIsHeldUntilItsNewline() {
        let held = frame(["abc"])
        #expect(held.events.isEmpty)
        #expect(held.partial)
    }

    @Test func crlfEndingsLoseTheirCarriageReturn() {
        #expect(frame(["a\r\nb\r", "\nc\n"]).events == ["a", "b", "c"])
        // Only one trailing \r is dropped, and an inner \r stays.
        #expect(frame(["a\rb\r\r\n"]).events == ["a\rb\r"])
    }

    @Test func aLineOfExactlyTheLimitIsAccepted() {
        let exact = String(repeating: "x", count: 16)
        #expect(frame([exact + "\n"]).events == [exact])
        #expect(frame([exact + "\r\n"]).events == [exact])
        #expect(frame([String(exact.prefix(10)), String(exact.dropFirst(10)) + "\r", "\n"]).events == [exact])
        #expect(frame([exact, "\r", "\n"]).events == [exact])
    }

    @Test func oneByteOverTheLimitIsTooLong() {
        let over = String(repeating: "x", count: 17)
        #expect(frame([over + "\nok\n"]).events == [nil, "ok"])
        #expect(frame([over, "\nok\n"]).events == [nil, "ok"])
        #expect(frame([over + "\r\nok\n"]).events == [nil, "ok"])
    }

    @Test func anOverlongLineInOneReadIsReportedOnceAndTheRestSurvive() {
        let long = String(repeating: "y", count: 100)
        #expect(frame(["first\n" + long + "\nsecond\nthird\n"]).events == ["first", nil, "second", "third"])
    }

    @Test func anOverlongLineAcrossReadsIsReportedOnceAndSkippedToItsNewline() {
        let chunk = String(repeating: "z", count: 10)
        let r = frame(["before\n" + chunk, chunk, chunk, chunk, chunk + "\nafter\n", "next\n"])
        #expect(r.events == ["before", nil, "after", "next"])
        #expect(!r.partial)
    }

    @Test func anOverlongLineWithoutANewlineYetIsReportedOnceOnly() {
        let big = String(repeating: "q", count: 40)
        let r = frame([big, big, big])
        #expect(r.events == [nil])
        // Once its newline comes, framing goes on from the next byte.
        let done = frame([big, big, "tail\nok\n"])
        #expect(done.events == [nil, "ok"])
    }

    @Test func theSkippedTailAndTheNextLineMayShareARead() {
        let big = String(repeating: "q", count: 40)
        #expect(frame([big, "rest\nline1\nline2\n"]).events == [nil, "line1", "line2"])
        // And the newline may be the first byte of a read.
        #expect(frame([big, "\nline\n"]).events == [nil, "line"])
    }

    @Test func consecutiveOverlongLinesAreEachReported() {
        let big = String(repeating: "w", count: 30)
        #expect(frame([big + "\n" + big + "\n", big, "\n", "ok\n"]).events == [nil, nil, nil, "ok"])
    }

    /// Found by Fuzz/FuzzLineFramer: `feed` holds up to `max + 1` bytes while a `\r` may still
    /// come, and a client that half-closed after such a line had it answered as a request.
    @Test func anUnterminatedLastLineOverTheLimitIsTooLong() {
        var framer = LineFramer(maxLineBytes: 16)
        var buffer = ByteBufferAllocator().buffer(string: String(repeating: "x", count: 17))
        framer.feed(&buffer) { _ in Issue.record("nothing is decided before the line ends") }
        guard case .tooLong = framer.takeUnterminatedLine() else {
            Issue.record("a 17-byte last line passed a limit of 16")
            return
        }
        #expect(!framer.hasPartialLine)
    }

    @Test func anUnterminatedLastLineWithinTheLimitIsALine() {
        for text in [String(repeating: "x", count: 16), String(repeating: "x", count: 16) + "\r"] {
            var framer = LineFramer(maxLineBytes: 16)
            var buffer = ByteBufferAllocator().buffer(string: text)
            framer.feed(&buffer) { _ in Issue.record("nothing is decided before the line ends") }
            guard case .line(let line) = framer.takeUnterminatedLine() else {
                Issue.record("a last line of \(text.utf8.count) bytes was not a line")
                continue
            }
            #expect(String(buffer: line) == String(repeating: "x", count: 16))
        }
    }
}
