/// Runs `action` every `period` (counted from the start, so it does not drift) until the task is
/// cancelled.
func every(_ period: Duration, _ action: () -> Void) async {
    let clock = ContinuousClock()
    var next = clock.now
    while true {
        // After a stall (a suspended process), the next run is one period from now, not a burst.
        next = max(next.advanced(by: period), clock.now)
        do {
            try await clock.sleep(until: next)
        } catch {
            return
        }
        action()
    }
}
