import AuthzCore
import AuthzTOML
import Testing

/// How a table collects errors: each check on its own, sub-tables reporting to their parents,
/// siblings kept apart, unknown keys reported once.
@Suite struct ConfigTableTests {
    func table(_ toml: String) throws -> ConfigTable {
        ConfigTable(file: "t.toml", table: try TOML.parse(toml), path: "")
    }

    @Test func attemptRecordsAnErrorAndTheNextCheckStillRuns() throws {
        let t = try table("a = \"x\"\nb = 5\n")
        let a = t.attempt { () throws(ConfigError) in try t.int("a") }
        let b = t.attempt { () throws(ConfigError) in try t.int("b") }
        #expect(a == nil)
        #expect(b == 5)
        #expect(t.errors.map(\.line) == [1])
        #expect(t.errors.first?.message == "a must be an integer, not a string")
    }

    @Test func finishReportsEveryUnreadKeyAndThrowsTheFirstErrorByLine() throws {
        let t = try table("x = 1\nkeep = 2\ny = 3\nbad = \"no\"\n")
        _ = try t.int("keep")
        t.attempt { () throws(ConfigError) in _ = try t.bool("bad") }
        #expect(throws: ConfigError(file: "t.toml", line: 1, message: "unknown key x")) { try t.finish() }
        #expect(t.errors.map(\.line) == [1, 3, 4])
        #expect(t.errors.map(\.message) == ["unknown key x", "unknown key y", "bad must be a boolean, not a string"])
    }

    @Test func aTableWithNoErrorFinishesQuietly() throws {
        let t = try table("a = 1\n")
        _ = try t.int("a")
        try t.finish()
        #expect(t.errors.isEmpty)
    }

    @Test func rejectUnknownKeysReportsEachOnceAndDoesNotStopTheChecks() throws {
        let t = try table("alow = 1\nallow = [\"x\"]\nalso = 2\n")
        t.rejectUnknownKeys(known: ["allow"])
        #expect(try t.stringList("allow") == ["x"])
        t.reportUnknownKeys()
        #expect(throws: ConfigError.self) { try t.finish() }
        #expect(t.errors.map(\.message) == ["unknown key alow", "unknown key also"])
    }

    @Test func aSubTablesErrorsCountForItsParentButNotForItsSiblings() throws {
        let t = try table("""
            [[chain]]
            a = "x"
            [[chain]]
            a = 1
            """)
        let steps = try #require(try t.tableList("chain"))
        steps[0].attempt { () throws(ConfigError) in _ = try steps[0].int("a") }
        _ = try steps[1].int("a")
        // The second step finishes cleanly although its sibling has an error.
        try steps[1].finish()
        #expect(throws: ConfigError.self) { try steps[0].finish() }
        #expect(steps[0].errors.map(\.message) == ["chain[0].a must be an integer, not a string"])
        #expect(steps[1].errors.isEmpty)
        #expect(t.errors.map(\.line) == [2], "the file's table holds every error found in it")
    }

    @Test func theSameErrorRecordedTwiceIsKeptOnce() throws {
        let t = try table("a = 1\n")
        let e = t.error("a", "a is wrong")
        t.record(e)
        t.record(e)
        #expect(t.errors == [e])
    }
}
