import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `struct ucred` from <sys/socket.h> (glibc shows it only under _GNU_SOURCE): pid, uid, gid.
struct PeerCredentialsValue: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// The uid of the process at the other end of a Unix socket (SO_PEERCRED).
enum PeerCredentials {
    static func uid(of channel: Channel) -> EventLoopFuture<UInt32?> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<PeerCredentialsValue> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { Optional($0.uid) }.recover { _ in UInt32?.none }
    }
}
