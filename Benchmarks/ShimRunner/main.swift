// authzd-nginx-profile: the nginx shim (NginxShimService, exactly what authzd-nginx runs) started
// from a synchronous main that parks on a semaphore. authzd-nginx's async top-level code parks
// its main thread in dispatch_main, which valgrind 3.19 cannot follow; this runner exists only
// so that Benchmarks/shim-profile.sh can count the shim's instructions under callgrind.
//
//   authzd-nginx-profile UPSTREAM_SOCKET HOST:PORT
import AuthzNginx
import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
guard args.count == 3, let listen = try? ListenAddress(parsing: args[2]) else {
    print("usage: authzd-nginx-profile UPSTREAM_SOCKET HOST:PORT")
    exit(2)
}
let configuration = NginxShim.Configuration(upstreamSocketPath: args[1], listen: listen)
let done = DispatchSemaphore(value: 0)
Task.detached {
    do {
        var logger = Logger(label: "authzd-nginx")
        logger.logLevel = .warning
        try await NginxShimService(configuration: configuration, logger: logger).run()
    } catch {
        print("authzd-nginx-profile: \(error)")
    }
    done.signal()
}
done.wait()
