#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system error message.
public struct FileMessage: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The text of the current `errno`, for a message that says what could not be done.
public func errnoText() -> String {
    String(cString: strerror(errno))
}

/// Reads a whole file as UTF-8.
public func readFile(_ path: String) -> Result<String, FileMessage> {
    switch readFileBytes(path) {
    case .success(let bytes):
        guard let s = String(validating: bytes, as: UTF8.self) else { return .failure(FileMessage("file is not valid UTF-8")) }
        return .success(s)
    case .failure(let e): return .failure(e)
    }
}

/// Reads a whole file's bytes (configuration and secret files; small).
public func readFileBytes(_ path: String, limit: Int = 16 << 20) -> Result<[UInt8], FileMessage> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(FileMessage("cannot open \(path): \(errnoText())")) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(FileMessage("cannot read \(path): \(errnoText())"))
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
        if out.count > limit { return .failure(FileMessage("\(path) is larger than \(limit) bytes")) }
    }
    return .success(out)
}

/// A secret file's bytes without one trailing line ending (`\n`, `\r\n` or `\r`, as editors add), the
/// same for the configuration's `secret_file` and `authzd token mint --secret-file`.
public func readSecretFile(_ path: String) -> Result<[UInt8], FileMessage> {
    switch readFileBytes(path, limit: 1 << 16) {
    case .success(var bytes):
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        return .success(bytes)
    case .failure(let e):
        return .failure(e)
    }
}
