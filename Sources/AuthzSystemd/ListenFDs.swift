internal import CSystemd

/// Sockets passed by systemd socket activation (sd_listen_fds(3)).
public enum ListenFDs {
    /// The first descriptor number systemd passes (`SD_LISTEN_FDS_START`, 3).
    public static var start: Int32 { authzd_sd_listen_fds_start() }

    /// Takes the descriptors passed to this process, in order, starting at ``start``.
    ///
    /// `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` are unset, so children we might spawn do not
    /// believe the sockets are theirs; call this once. The descriptors are marked close-on-exec.
    /// - Returns: the descriptors, or an empty array when nothing was passed to this process.
    public static func take() -> [Int32] {
        let count = sd_listen_fds(1)
        guard count > 0 else { return [] }
        let first = start
        return (0..<count).map { first + $0 }
    }
}
