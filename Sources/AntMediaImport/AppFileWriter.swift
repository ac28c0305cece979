#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AuthzCore

/// Writes an app file so that the daemon, which may reload at any moment, sees either the old
/// file or the new one in full: a hidden temporary file beside it (the loader skips names
/// starting with '.'), flushed, then renamed over it. An identical file is left alone.
public enum AppFileWriter {
    /// What happened, or would happen, to one file.
    public enum Outcome: String, Sendable, Equatable {
        case created, updated, unchanged
    }

    /// What writing `text` to `path` would do, without writing.
    public static func preview(_ text: String, at path: String) -> Outcome {
        switch readFileBytes(path, limit: AntMediaImporter.maximumFileBytes) {
        case .success(let bytes): return bytes == Array(text.utf8) ? .unchanged : .updated
        case .failure: return access(path, F_OK) == 0 ? .updated : .created
        }
    }

    /// Writes `text` to `path` with `mode` (exactly, whatever the umask). A file being replaced
    /// keeps its owner and group where this process may set them (so a `chgrp authzd` done once
    /// survives re-imports); an unchanged file is not rewritten, only its mode tightened to `mode`
    /// if it allowed more.
    public static func write(_ text: String, to path: String, mode: mode_t) -> Result<Outcome, FileMessage> {
        let bytes = Array(text.utf8)
        var old = stat()
        let exists = lstat(path, &old) == 0
        if exists, (old.st_mode & S_IFMT) == S_IFREG,
           case .success(let current) = readFileBytes(path, limit: AntMediaImporter.maximumFileBytes), current == bytes {
            if old.st_mode & 0o7777 & ~mode != 0, chmod(path, mode) != 0 {
                return .failure(FileMessage("cannot chmod \(path): \(errnoString())"))
            }
            return .success(.unchanged)
        }

        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let base = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(directory.isEmpty ? "" : directory)/.\(base).XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return .failure(FileMessage("cannot create a file in \(directory): \(errnoString())")) }
        let tmp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { return .failure(FileMessage("cannot chmod \(tmp): \(errnoString())")) }
            if exists, (old.st_mode & S_IFMT) == S_IFREG {
                // Best effort: only root (or the owner, for a group it belongs to) may do this.
                _ = fchown(fd, old.st_uid, old.st_gid)
            }
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { writeBytes(fd, $0) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return .failure(FileMessage("cannot write \(tmp): \(errnoString())"))
                }
                offset += n
            }
            guard fsync(fd) == 0 else { return .failure(FileMessage("cannot flush \(tmp): \(errnoString())")) }
        }
        guard rename(tmp, path) == 0 else { return .failure(FileMessage("cannot rename \(tmp) to \(path): \(errnoString())")) }
        ok = true
        let dfd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
        return .success(exists ? .updated : .created)
    }

    private static func errnoString() -> String { String(cString: strerror(errno)) }
}

/// `write(2)`, outside `AppFileWriter` whose own `write` would shadow it.
private func writeBytes(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    write(fd, buffer.baseAddress, buffer.count)
}
