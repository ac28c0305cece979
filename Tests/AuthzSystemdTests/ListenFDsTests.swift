import Glibc
import Testing

@testable import AuthzSystemd

/// Socket activation hands sockets over as descriptors 3, 4, ...; the test puts real sockets there
/// in a child process, where nothing else of this test run can be disturbed. Whatever the test
/// harness keeps on those numbers is parked elsewhere and put back before the child reports.
@Suite struct ListenFDsTests {
    @Test func passedSocketsAreTakenInOrderAndTheEnvironmentIsCleared() async {
        await #expect(processExitsWith: .success) {
            exit(ListenFDsTests.checkSocketActivation() ? 0 : 1)
        }
    }

    @Test func nothingIsTakenWhenListenPidIsAnotherProcess() async {
        await #expect(processExitsWith: .success) {
            setenv("LISTEN_PID", "\(getppid())", 1)
            setenv("LISTEN_FDS", "1", 1)
            exit(ListenFDs.take().isEmpty ? 0 : 1)
        }
    }

    @Test func nothingIsTakenWithoutListenFds() async {
        await #expect(processExitsWith: .success) {
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            exit(ListenFDs.take().isEmpty ? 0 : 1)
        }
    }

    /// Runs in the child: a listening stream socket on 3, a datagram socket on 4.
    static func checkSocketActivation() -> Bool {
        let first = ListenFDs.start
        guard first == 3 else { return false }
        // Park whatever the harness has on 3 and 4.
        let parked = [first, first + 1].map { fd -> (Int32, Int32) in
            (fd, fcntl(fd, F_GETFD) >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 100) : -1)
        }
        defer {
            for (fd, saved) in parked {
                if saved >= 0 { dup2(saved, fd); close(saved) } else { close(fd) }
            }
        }
        let stream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let datagram = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        // An abstract address: nothing on disk to clean up.
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name = Array("\0authzd-listenfds-test-\(getpid())".utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in name.enumerated() { raw[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stream, $0, length) }
        }
        guard stream >= 0, datagram >= 0, bound == 0, listen(stream, 8) == 0 else { return false }
        guard dup2(stream, first) == first, dup2(datagram, first + 1) == first + 1 else { return false }
        close(stream)
        close(datagram)

        setenv("LISTEN_PID", "\(getpid())", 1)
        setenv("LISTEN_FDS", "2", 1)
        setenv("LISTEN_FDNAMES", "authzd.socket:other", 1)
        let taken = ListenFDs.take()
        let environmentCleared = getenv("LISTEN_PID") == nil && getenv("LISTEN_FDS") == nil
            && getenv("LISTEN_FDNAMES") == nil
        let closeOnExec = (fcntl(first, F_GETFD) & FD_CLOEXEC) != 0
        return taken == [3, 4]
            && environmentCleared
            && closeOnExec
            && ListenFDs.take().isEmpty  // taken once: the environment is gone
    }
}
