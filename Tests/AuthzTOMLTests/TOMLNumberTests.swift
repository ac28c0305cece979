import AuthzTOML
import Testing

/// Integers, floats, booleans and date-times.
@Suite struct TOMLNumberTests {
    private func value(_ literal: String) throws -> TOMLValue? {
        lookup(try TOML.parse("v = \(literal)"), "v")?.value
    }

    @Test(arguments: [
        ("99", 99), ("+99", 99), ("42", 42), ("0", 0), ("+0", 0), ("-0", 0), ("-17", -17),
        ("1_000", 1000), ("5_349_221", 5_349_221), ("53_49_221", 5_349_221), ("1_2_3_4_5", 12345),
        ("0xDEADBEEF", 0xDEADBEEF), ("0xdeadbeef", 0xDEADBEEF), ("0xdead_beef", 0xDEADBEEF),
        ("0o01234567", 0o1234567), ("0o755", 0o755), ("0b11010110", 0b11010110), ("0x00", 0),
        ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
        ("0x7FFFFFFFFFFFFFFF", Int64.max),
    ] as [(String, Int64)])
    func integersInEveryNotation(literal: String, expected: Int64) throws {
        #expect(try value(literal) == .integer(expected))
    }

    @Test(arguments: [
        ("+1.0", 1.0), ("3.1415", 3.1415), ("-0.01", -0.01), ("5e+22", 5e22), ("1e06", 1e6),
        ("-2E-2", -0.02), ("6.626e-34", 6.626e-34), ("224_617.445_991_228", 224_617.445_991_228),
        ("0.0", 0.0), ("+0.0", 0.0), ("1e1_0", 1e10), ("0e0", 0), ("1.5E3", 1500),
    ] as [(String, Double)])
    func floatsWithFractionsAndExponents(literal: String, expected: Double) throws {
        #expect(try value(literal) == .float(expected))
    }

    @Test func specialFloatsAndSignedZero() throws {
        #expect(try value("inf") == .float(.infinity))
        #expect(try value("+inf") == .float(.infinity))
        #expect(try value("-inf") == .float(-.infinity))
        for literal in ["nan", "+nan", "-nan"] {
            guard case .float(let f)? = try value(literal) else {
                Issue.record("\(literal) is not a float")
                continue
            }
            #expect(f.isNaN)
        }
        guard case .float(let negativeZero)? = try value("-0.0") else {
            Issue.record("-0.0 is not a float")
            return
        }
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
    }

    @Test func booleans() throws {
        #expect(try value("true") == .bool(true))
        #expect(try value("false") == .bool(false))
    }

    @Test(arguments: [
        "1979-05-27T07:32:00Z", "1979-05-27T00:32:00-07:00", "1979-05-27T00:32:00.999999-07:00",
        "1979-05-27 07:32:00Z", "1979-05-27t07:32:00z", "1979-05-27T07:32:00", "1979-05-27T00:32:00.999999",
        "1979-05-27", "07:32:00", "00:32:00.999999", "2024-02-29", "1990-12-31T23:59:60Z",
    ])
    func dateTimesAreKeptAsWritten(literal: String) throws {
        #expect(try value(literal) == .datetime(literal))
    }

    @Test func localDateFollowedByACommentIsJustADate() throws {
        let root = try TOML.parse("d = 1979-05-27 # birthday\nt = [07:32:00, 1979-05-27T07:32:00Z]")
        #expect(lookup(root, "d")?.value == .datetime("1979-05-27"))
        #expect(lookup(root, "t", "1")?.value == .datetime("1979-05-27T07:32:00Z"))
    }

    @Test(arguments: [
        ("01", "leading zeros are not allowed"), ("+01", "leading zeros are not allowed"),
        ("0_1", "leading zeros are not allowed"), ("03.14", "leading zeros are not allowed"),
        ("1__2", "an underscore must be between two digits"), ("_1", "invalid value '_1' (strings must be quoted)"),
        ("1_", "an underscore must be between two digits"), ("1_.5", "an underscore must be between two digits"),
        ("9223372036854775808", "out of range for a 64-bit signed integer"),
        ("-9223372036854775809", "out of range for a 64-bit signed integer"),
        ("0x8000000000000000", "out of range for a 64-bit signed integer"),
        ("+0x10", "a hexadecimal integer cannot have a sign"), ("0xG", "'G' is not a digit here"),
        ("0o8", "'8' is not a digit here"), ("0b102", "'2' is not a digit here"), ("0x", "digits are missing"),
        ("1.", "a decimal point must be followed by digits"), ("1.e5", "a decimal point must be followed by digits"),
        (".5", "a float needs digits before the decimal point"), ("1e", "an exponent must have digits"),
        ("1e400", "out of range for a 64-bit float"), ("Inf", "invalid value 'Inf' (strings must be quoted)"),
        ("info", "invalid value 'info' (strings must be quoted)"), ("tru", "invalid value 'tru' (strings must be quoted)"),
        ("1979-13-01", "month must be 01 to 12"), ("2023-02-29", "day 29 does not exist in that month"),
        ("1979-05-27T25:00:00", "time out of range"), ("1979-05-27T07:32", "seconds are required"),
        ("07:32:00Z", "unexpected 'Z'"), ("1979-05-27T07:32:00.Z", "fractional seconds need digits"),
        ("1979-05-27T07:32:00+7:00", "expected a time offset like +01:00"),
    ])
    func invalidNumbersAndDatesAreRejectedAtTheirColumn(literal: String, reason: String) {
        guard let error = parseError("v = \(literal)") else { return }
        #expect(error.line == 1)
        #expect(error.column == 5)
        #expect(error.message.contains(reason), "\(error.message)")
    }
}
