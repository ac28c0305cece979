@testable import AuthzServer
import Testing

@Suite struct DecisionRateTests {
    @Test func theRateCountsOnlyDecisionsSinceThePreviousReading() {
        var rate = DecisionRate(totals: (allowed: 100, denied: 50))
        #expect(rate.sample(totals: (allowed: 130, denied: 60), seconds: 5) == .init(perSecond: 8, denyShare: 0.25))
        #expect(rate.sample(totals: (allowed: 130, denied: 70), seconds: 5) == .init(perSecond: 2, denyShare: 1))
    }

    @Test func nothingDecidedIsZeroNotADivisionByZero() {
        var rate = DecisionRate(totals: (allowed: 7, denied: 3))
        #expect(rate.sample(totals: (allowed: 7, denied: 3), seconds: 5) == .zero)
        #expect(rate.sample(totals: (allowed: 9, denied: 3), seconds: 0) == .zero)
    }

    @Test func countersThatWentBackNeverGiveANegativeRate() {
        var rate = DecisionRate(totals: (allowed: 10, denied: 10))
        #expect(rate.sample(totals: (allowed: 0, denied: 4), seconds: 1) == .zero)
        #expect(rate.sample(totals: (allowed: 2, denied: 4), seconds: 1) == .init(perSecond: 2, denyShare: 0))
    }
}
