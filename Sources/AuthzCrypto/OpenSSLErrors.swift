internal import COpenSSL

/// Empties this thread's OpenSSL error queue. Called after every failing call so that a stale
/// error never leaks into an unrelated later operation on the same thread.
@inline(__always)
func drainOpenSSLErrors() {
    ERR_clear_error()
}

/// A non-null address for a possibly empty buffer: several OpenSSL calls treat a null pointer as
/// "no input given" even with a zero length, which differs from "empty input".
nonisolated(unsafe) let emptyByte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
