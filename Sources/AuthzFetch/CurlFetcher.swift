import AuthzIO
import Foundation
import Synchronization

/// Fetches over HTTP(S) with libcurl on a small pool of its own threads, so a slow key server
/// never blocks an event loop. Completions run on those threads.
///
/// Trust: the system CA bundle; with `caFile` set, the system bundle plus that file (libcurl's
/// CAINFO would replace the system bundle, so the two are concatenated and passed in memory).
public final class CurlFetcher: HTTPFetcher {
    private struct Job {
        let request: HTTPFetchRequest
        let completion: @Sendable (Result<HTTPFetchResponse, HTTPFetchError>) -> Void
    }

    private struct Queue {
        var jobs: [Job] = []
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let ready = DispatchSemaphore(value: 0)
    private let threadCount: Int
    /// The system bundle concatenated with an extra `ca_file`; nil: libcurl's default.
    private let systemBundlePath: String?

    /// Starts `threads` fetch threads. `systemCABundle` is the PEM file holding the system's
    /// trusted CAs (by default what libcurl was built with, else the Debian/RHEL locations).
    public init(threads: Int = 2, systemCABundle: String? = nil) {
        threadCount = max(1, threads)
        systemBundlePath = systemCABundle ?? Self.defaultSystemBundle()
        for i in 0..<threadCount {
            let t = Thread { [self] in self.work() }
            t.name = "authzd-fetch-\(i)"
            t.start()
        }
    }

    /// Queues a fetch; `completion` runs once, on a fetch thread. After `shutdown()` it fails at once.
    public func fetch(_ request: HTTPFetchRequest,
                      completion: @escaping @Sendable (Result<HTTPFetchResponse, HTTPFetchError>) -> Void) {
        let accepted = queue.withLock { q in
            guard !q.stopped else { return false }
            q.jobs.append(Job(request: request, completion: completion))
            return true
        }
        if accepted {
            ready.signal()
        } else {
            completion(.failure(HTTPFetchError("fetcher is shut down")))
        }
    }

    /// Lets the threads finish the queued fetches and exit.
    public func shutdown() {
        queue.withLock { $0.stopped = true }
        for _ in 0..<threadCount { ready.signal() }
    }

    private func work() {
        while true {
            ready.wait()
            let job: Job? = queue.withLock { q in q.jobs.isEmpty ? nil : q.jobs.removeFirst() }
            guard let job else {
                if queue.withLock({ $0.stopped }) { return }
                continue
            }
            job.completion(perform(job.request))
        }
    }

    /// One blocking transfer on the calling thread.
    public func perform(_ request: HTTPFetchRequest) -> Result<HTTPFetchResponse, HTTPFetchError> {
        var bundle: [UInt8]? = nil
        if let caFile = request.caFile, !caFile.isEmpty {
            switch trustBundle(extra: caFile) {
            case .success(let b): bundle = b
            case .failure(let e): return .failure(e)
            }
        }
        do {
            guard let easy = try CurlEasy(request, caBundle: bundle) else {
                return .failure(HTTPFetchError("libcurl could not create a handle"))
            }
            return easy.perform()
        } catch {
            return .failure(error)
        }
    }

    /// The system bundle followed by the extra file, read at each fetch so that a replaced
    /// file takes effect without a restart.
    private func trustBundle(extra: String) -> Result<[UInt8], HTTPFetchError> {
        var out: [UInt8] = []
        if let systemBundlePath, case .success(let system) = readFileBytes(systemBundlePath, limit: 8 << 20) {
            out = system
            if out.last != 0x0A { out.append(0x0A) }
        }
        switch readFileBytes(extra, limit: 8 << 20) {
        case .success(let bytes):
            out += bytes
            return .success(out)
        case .failure(let e):
            return .failure(HTTPFetchError("ca_file: \(e.message)"))
        }
    }

    /// The system CA bundle: libcurl's built-in default if it names one that exists, else the
    /// usual Debian, RHEL and Alpine locations.
    static func defaultSystemBundle() -> String? {
        let candidates = [CurlEasy.defaultCAInfo()].compactMap { $0 } + [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/cert.pem",
        ]
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }
}
