import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's Unix socket file.
///
/// - It has its final mode and group from the moment it exists at its path: it is bound inside a
///   private (0700) directory next to the path, given its group and mode there, and renamed into
///   place. No other user can reach it before that, whatever the umask.
/// - A socket a live daemon answers on is never taken over (authzd connects to it first); a stale
///   one (nobody listening) is replaced atomically by the rename.
/// - On exit the path is removed only while it is still this socket (same device and inode), so a
///   daemon never removes a socket that another one put there since.
struct SocketFile {
    let path: String
    private let device: UInt64
    private let inode: UInt64

    /// The longest path a Unix socket can have: `sun_path` holds 108 bytes with the final NUL.
    static let maxPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Binds a listening socket at `path` with `mode` and `group` (empty: the daemon's group).
    /// `bind` binds and listens at the (temporary) path it is given. Every failure throws a
    /// `DaemonError` that says, in plain words, which path and why, and leaves nothing behind.
    static func place(path: String, mode: UInt32, group: String,
                      bind: (String) async throws -> Channel) async throws -> (channel: Channel, file: SocketFile) {
        let fail = { (why: String) in DaemonError("cannot listen on \(path): \(why)") }
        let length = path.utf8.count
        if path.utf8.contains(0) { throw fail("the path contains a NUL byte") }
        if length > maxPathBytes {
            throw fail("the path is \(length) bytes long; a Unix socket path can have at most \(maxPathBytes)")
        }
        let dir = directory(of: path)
        try refuseLiveOrForeign(path, fail)
        try ensureDirectory(dir, fail)

        var gid: gid_t?
        if !group.isEmpty {
            guard let gr = getgrnam(group) else { throw fail("socket_group \(group) does not exist") }
            gid = gr.pointee.gr_gid
        }

        // A private directory beside the path: the same file system, so the rename is atomic.
        var template = Array("\(dir)/.authzd-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw fail(describe(errno, directory: dir)) }
        let tempDir = String(cString: made)
        let tempPath = tempDir + "/s"
        var channel: Channel?
        do {
            // A temporary path too long for sun_path is reached through its directory's descriptor.
            var bindPath = tempPath
            var dirFD: Int32 = -1
            if tempPath.utf8.count > maxPathBytes {
                dirFD = open(tempDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard dirFD >= 0 else { throw fail("cannot open \(tempDir): \(plain(errno))") }
                bindPath = "/proc/self/fd/\(dirFD)/s"
            }
            defer { if dirFD >= 0 { close(dirFD) } }
            do {
                channel = try await bind(bindPath)
            } catch let error as IOError {
                throw fail("bind failed: \(plain(error.errnoCode))")
            } catch {
                throw fail("bind failed: \(error)")
            }

            if let gid, chown(tempPath, uid_t.max, gid) != 0 {
                let e = errno
                let hint = e == EPERM ? " (this user is not a member of \(group))" : ""
                throw fail("cannot give the socket to group \(group): \(plain(e))\(hint)")
            }
            if chmod(tempPath, mode_t(mode)) != 0 {
                throw fail("cannot set the socket's mode: \(plain(errno))")
            }
            var st = stat()
            guard lstat(tempPath, &st) == 0 else { throw fail("the new socket vanished: \(plain(errno))") }

            // Checked again just before the rename: a daemon may have started meanwhile.
            try refuseLiveOrForeign(path, fail)
            if rename(tempPath, path) != 0 {
                throw fail("cannot move the socket into place: \(plain(errno))")
            }
            rmdir(tempDir)
            return (channel!, SocketFile(path: path, device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))
        } catch {
            if let channel { try? await channel.close().get() }
            unlink(tempPath)
            rmdir(tempDir)
            throw error
        }
    }

    /// Removes the path if it is still this socket; returns whether it did.
    @discardableResult
    func removeIfStillOurs() -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK,
              UInt64(st.st_dev) == device, UInt64(st.st_ino) == inode else { return false }
        return unlink(path) == 0
    }

    // MARK: - Checks

    /// What is at `path` now: nothing, a stale socket (replaced later), or something to refuse.
    private static func refuseLiveOrForeign(_ path: String, _ fail: (String) -> DaemonError) throws {
        var st = stat()
        if lstat(path, &st) != 0 {
            let e = errno
            if e == ENOENT { return }
            if e == ENOTDIR { throw fail("\(directory(of: path)) is not a directory") }
            if e == EACCES { throw fail("permission denied (the directory \(directory(of: path)) is not accessible to this user)") }
            throw fail("cannot look at the path: \(plain(e))")
        }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw fail("the path exists and is not a socket; refusing to replace it")
        }
        switch probe(path) {
        case 0:
            throw fail("another process is listening on it (is authzd already running?); refusing to take over its socket")
        case ECONNREFUSED:
            return  // stale: nobody listens; the rename replaces it
        case EAGAIN:
            throw fail("another process is listening on it and is busy; refusing to take over its socket")
        case let e:
            throw fail("cannot tell whether another process listens on it (connect: \(plain(e))); refusing to replace it")
        }
    }

    /// Connects to a Unix socket path: 0 when something accepts, else the errno.
    static func probe(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.prefix(maxPathBytes).enumerated() { raw[i] = b }
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return r == 0 ? 0 : errno
    }

    /// Creates a missing socket directory (one level, as `/run/authzd` under a fresh /run).
    private static func ensureDirectory(_ dir: String, _ fail: (String) -> DaemonError) throws {
        var st = stat()
        if stat(dir, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw fail("\(dir) is not a directory") }
            return
        }
        let e = errno
        guard e == ENOENT else { throw fail("cannot reach the directory \(dir): \(plain(e))") }
        if mkdir(dir, 0o755) == 0 { return }
        switch errno {
        case ENOENT:
            throw fail("the directory \(dir) does not exist, nor does its parent \(directory(of: dir))")
        case EACCES, EPERM:
            throw fail("the directory \(dir) does not exist and this user cannot create it (permission denied)")
        case let e:
            throw fail("the directory \(dir) does not exist and cannot be created: \(plain(e))")
        }
    }

    /// Why something could not be created in `directory`, in plain words.
    private static func describe(_ e: Int32, directory dir: String) -> String {
        switch e {
        case EACCES, EPERM: "permission denied (the directory \(dir) is not writable by this user)"
        case EROFS: "the directory \(dir) is on a read-only file system"
        case ENOENT: "the directory \(dir) does not exist"
        case ENOTDIR: "\(dir) is not a directory"
        case ENOSPC, EDQUOT: "no space left in \(dir)"
        default: plain(e)
        }
    }

    /// `strerror`, lower-cased to sit inside a sentence.
    static func plain(_ e: Int32) -> String {
        let text = String(cString: strerror(e))
        guard let first = text.first else { return "error \(e)" }
        return first.lowercased() + text.dropFirst()
    }

    /// The directory part of a path ("." for a bare name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}
