import Glibc
import Logging
import Testing

@testable import AuthzSystemd

@Suite struct StderrLogHandlerTests {
    @Test func aRecordIsOneLineWithLevelMessageAndSortedMetadata() {
        let line = StderrLogHandler.format(
            level: .warning, message: "reload failed\nsee above",
            metadata: ["socket": "/run/authzd/authzd.sock", "app": "billing", "why": "bad key = \"x\"",
                       "empty": ""],
            timestamp: false)
        #expect(String(decoding: line, as: UTF8.self) == """
            warning reload failed\\nsee above app=billing empty="" socket=/run/authzd/authzd.sock \
            why="bad key = \\"x\\""

            """)
    }

    @Test func controlCharactersAreEscaped() {
        let line = StderrLogHandler.format(level: .info, message: "a\tb\u{1}c\r", metadata: nil,
                                           timestamp: false)
        #expect(String(decoding: line, as: UTF8.self) == "info a\\tb\\x01c\\r\n")
    }

    @Test func handlerWritesTimestampedLinesToItsDescriptor() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var handler = StderrLogHandler(label: "t", logLevel: .info, fileDescriptor: fds[1])
        handler[metadataKey: "component"] = "server"
        let logger = Logger(label: "t") { _ in handler }
        logger.info("listening", metadata: ["socket": "/run/authzd/authzd.sock"])
        logger.debug("below the level")
        close(fds[1])

        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            guard n > 0 else { break }
            bytes += buffer[..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        try #require(lines.count == 2 && lines[1].isEmpty, "expected exactly one line: \(text)")
        let parts = lines[0].split(separator: " ", maxSplits: 1)
        try #require(parts.count == 2)
        // 2026-11-30T08:07:53.123Z
        let stamp = Array(parts[0].utf8)
        #expect(stamp.count == 24 && parts[0].last == "Z" && stamp[10] == UInt8(ascii: "T"))
        #expect(parts[1] == "info listening component=server socket=/run/authzd/authzd.sock")
    }
}
