import AuthzCore
import Synchronization
import Testing

/// The driver: flights for waiters, timers on the injected clock, the load it is given.
struct RemoteSourceTests {
    /// A load whose fetches the test ends by hand.
    final class ManualLoad: Sendable {
        private let pending = Mutex<[@Sendable (RemoteSourceMachine<String>.Outcome) -> Void]>([])
        private let calls = Mutex(0)

        var load: RemoteSource<String>.Load {
            { [self] _, done in
                calls.withLock { $0 += 1 }
                pending.withLock { $0.append(done) }
            }
        }

        var count: Int { calls.withLock { $0 } }

        /// Ends every fetch under way with `outcome`.
        func finish(_ outcome: RemoteSourceMachine<String>.Outcome) {
            let all = pending.withLock { p in
                defer { p = [] }
                return p
            }
            for done in all { done(outcome) }
        }
    }

    static let policy = RemoteSourcePolicy(cacheTTL: 100, minRefetchInterval: 10, maxStale: 50, fetchTimeout: 2)

    func text(_ s: String, fresh: Double = 100) -> RemoteSourceMachine<String>.Outcome {
        .document(s, content: Array(s.utf8), freshFor: fresh)
    }

    @Test func manyRequestsWaitOnOneFlightWokenWhenTheFetchEnds() {
        let clock = VirtualClock(start: 0)
        let load = ManualLoad()
        let source = RemoteSource(policy: Self.policy, clock: clock, load: load.load)
        var flights: [Flight<Void>] = []
        for _ in 0..<20 {
            guard case .wait(let f) = source.lookup() else {
                Issue.record("a request did not wait for the first fetch")
                return
            }
            flights.append(f)
        }
        #expect(load.count == 1)
        #expect(flights.allSatisfy { $0 === flights[0] })
        let woken = Mutex(0)
        for f in flights { f.whenReady { woken.withLock { $0 += 1 } } }
        load.finish(text("doc"))
        #expect(woken.withLock { $0 } == 20)
        guard case .ready(let doc) = source.lookup() else {
            Issue.record("no document after the fetch")
            return
        }
        #expect(doc.document == "doc")
    }

    @Test func timersRunOnTheInjectedClock() {
        let clock = VirtualClock(start: 0)
        let load = ManualLoad()
        let events = Mutex<[String]>([])
        let source = RemoteSource(policy: Self.policy, clock: clock, load: load.load) { event in
            switch event {
            case .loaded(let doc, let changed): events.withLock { $0.append("\(doc.document) \(changed)") }
            case .failed(let why): events.withLock { $0.append("failed \(why)") }
            }
        }
        source.start()
        load.finish(text("v1"))
        // Refresh at 80 of 100.
        clock.advance(79.9)
        #expect(load.count == 1)
        clock.advance(0.1)
        #expect(load.count == 2)
        load.finish(text("v1"))
        clock.advance(80)
        load.finish(.failure("down"))
        #expect(events.withLock { $0 } == ["v1 true", "v1 false", "failed down"])
        #expect(source.machine.lastResult == "down")
    }

    @Test func whenIdleWaitsForTheFetchUnderWayOrAnswersAtOnce() {
        let clock = VirtualClock(start: 0)
        let load = ManualLoad()
        let source = RemoteSource(policy: Self.policy, clock: clock, load: load.load)
        let calls = Mutex(0)
        source.whenIdle { calls.withLock { $0 += 1 } }
        #expect(calls.withLock { $0 } == 1)
        source.start()
        source.whenIdle { calls.withLock { $0 += 1 } }
        #expect(calls.withLock { $0 } == 1)
        // The wait limit (fetch_timeout + 0.5) ends the wait though the fetch hangs.
        clock.advance(2.5)
        #expect(calls.withLock { $0 } == 2)
    }

    @Test func withDocumentWaitsForAFetchThenHandsOverTheDocumentOrWhy() {
        let clock = VirtualClock(start: 0)
        let load = ManualLoad()
        let source = RemoteSource(policy: Self.policy, clock: clock, load: load.load)
        let got = Mutex<[String]>([])
        source.withDocument { r in got.withLock { $0.append((try? r.get().document) ?? "none") } }
        #expect(got.withLock { $0 }.isEmpty)
        load.finish(.failure("refused"))
        source.withDocument { r in
            if case .failure(let f) = r, case .neverFetched(let why) = f.reason { got.withLock { $0.append("no: \(why ?? "")") } }
        }
        #expect(got.withLock { $0 } == ["none", "no: refused"])
    }

    @Test func waitersAreWokenIfTheSourceGoesWhileItsFetchHangs() {
        let clock = VirtualClock(start: 0)
        let load = ManualLoad()
        var source: RemoteSource<String>? = RemoteSource(policy: Self.policy, clock: clock, load: load.load)
        guard case .wait(let flight) = source?.lookup() else {
            Issue.record("no fetch to wait on")
            return
        }
        #expect(!flight.isDone)
        source = nil
        #expect(flight.isDone)
        // The fetch's late end and the timers find nothing to act on.
        load.finish(text("late"))
        clock.advance(1000)
    }

    @Test func withoutALoadNothingIsFetched() {
        let source = RemoteSource<String>(policy: Self.policy, clock: VirtualClock(start: 0), load: nil)
        source.start()
        guard case .unavailable(.neverFetched(nil)) = source.lookup() else {
            Issue.record("a source without a load waited or served")
            return
        }
        #expect(source.machine.fetchCount == 0)
    }

    @Test func anHTTPAnswerBecomesAnOutcome() {
        let policy = Self.policy
        func outcome(_ r: Result<HTTPFetchResponse, HTTPFetchError>, current: RemoteDocument<String>? = nil) -> String {
            switch RemoteSource<String>.outcome(of: r, policy: policy, current: current, parse: { body in
                body.isEmpty ? .failure(HTTPFetchError("empty")) : .success(String(decoding: body, as: UTF8.self))
            }) {
            case .document(let d, _, let fresh): "\(d) \(Int(fresh))"
            case .failure(let why): why
            }
        }
        #expect(outcome(.success(HTTPFetchResponse(status: 200, headers: [("cache-control", "max-age=40")], body: Array("a".utf8)))) == "a 40")
        #expect(outcome(.success(HTTPFetchResponse(status: 404, headers: [], body: Array("a".utf8)))) == "HTTP status 404")
        #expect(outcome(.success(HTTPFetchResponse(status: 200, headers: [], body: [])))  == "empty")
        #expect(outcome(.failure(HTTPFetchError("timed out"))) == "timed out")
        // An unchanged body keeps the parsed document it had.
        let held = RemoteDocument(document: "parsed earlier", generation: 1, content: Array("a".utf8), fetchedAt: 0, freshUntil: 1, staleUntil: 2)
        #expect(outcome(.success(HTTPFetchResponse(status: 200, headers: [], body: Array("a".utf8))), current: held) == "parsed earlier 100")
    }
}

/// Keyed single flight: one flight per key, joined by every caller with that key, bounded.
struct SingleFlightTests {
    @Test func callersOfOneKeyShareAFlightAndGetItsValue() {
        let flights = SingleFlight<String, Int>(capacity: 4)
        guard case .started(let first) = flights.join("token-a"), case .joined(let second) = flights.join("token-a") else {
            Issue.record("the second caller did not join the first one's flight")
            return
        }
        #expect(first === second)
        let seen = Mutex<[Int?]>([])
        first.whenReady { seen.withLock { $0.append(first.value) } }
        second.whenReady { seen.withLock { $0.append(second.value) } }
        flights.finish("token-a", with: 7)
        #expect(seen.withLock { $0 } == [7, 7])
        #expect(flights.count == 0)
        // Finished: the next caller starts afresh.
        guard case .started(let third) = flights.join("token-a") else {
            Issue.record("a finished key was still in flight")
            return
        }
        #expect(third !== first)
    }

    @Test func keysInFlightAreBounded() {
        let flights = SingleFlight<Int, Bool>(capacity: 2)
        _ = flights.join(1)
        _ = flights.join(2)
        guard case .full = flights.join(3) else {
            Issue.record("a third key was let in past capacity 2")
            return
        }
        guard case .joined = flights.join(2) else {
            Issue.record("a key in flight could not be joined at capacity")
            return
        }
        flights.finish(1, with: nil)
        guard case .started = flights.join(3) else {
            Issue.record("room freed by a finished key was not reused")
            return
        }
    }

    @Test func aFlightCompletesOnceAndLateWaitersRunAtOnce() {
        let flight = Flight<String>()
        flight.complete("first")
        flight.complete("second")
        #expect(flight.value == "first")
        let ran = Mutex(false)
        flight.whenReady { ran.withLock { $0 = true } }
        #expect(ran.withLock { $0 })
    }
}
