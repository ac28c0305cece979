/// Booleans, numbers and date-times: the values written without delimiters.
extension TOMLParser {
    mutating func parseScalar() throws(TOMLParseError) -> TOMLValue {
        let start = pos
        if isDigitRun(at: 0, count: 4) && peek(4) == UInt8(ascii: "-") {
            return try parseDateTime()
        }
        if isDigitRun(at: 0, count: 2) && peek(2) == UInt8(ascii: ":") {
            return try parseLocalTime()
        }
        while let b = peek(), b.isBareKeyByte || b == .dot || b == UInt8(ascii: "+") { pos += 1 }
        guard pos > start else { throw error("expected a value, found \(describeHere())") }
        let token = String(decoding: bytes[start..<pos], as: UTF8.self)
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        let first = bytes[start]
        guard first.isDigit || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == .dot
            || token == "inf" || token == "nan"
        else {
            throw error(at: start, "invalid value '\(token)' (strings must be quoted)")
        }
        return try Self.number(token).mapError { problem in
            error(at: start, "invalid number '\(token)': \(problem.reason)")
        }.get()
    }

    private func isDigitRun(at offset: Int, count: Int) -> Bool {
        (0..<count).allSatisfy { peek(offset + $0)?.isDigit == true }
    }

    // MARK: Numbers

    /// A reason why a number is invalid; the caller adds the position and the token.
    struct NumberError: Error {
        var reason: String
    }

    static func number(_ token: String) -> Result<TOMLValue, NumberError> {
        var rest = Substring(token)
        var sign: Character?
        if let c = rest.first, c == "+" || c == "-" {
            sign = c
            rest = rest.dropFirst()
        }
        let negative = sign == "-"
        switch rest {
        case "inf": return .success(.float(negative ? -.infinity : .infinity))
        case "nan": return .success(.float(negative ? -.nan : .nan))
        default: break
        }
        for (prefix, radix, name) in [("0x", 16, "hexadecimal"), ("0o", 8, "octal"), ("0b", 2, "binary")]
        where rest.hasPrefix(prefix) {
            if sign != nil { return .failure(NumberError(reason: "a \(name) integer cannot have a sign")) }
            let digits = rest.dropFirst(2)
            if let problem = digitProblem(digits, radix: radix) { return .failure(NumberError(reason: problem)) }
            guard let value = Int64(digits.filter { $0 != "_" }, radix: radix) else {
                return .failure(NumberError(reason: "out of range for a 64-bit signed integer"))
            }
            return .success(.integer(value))
        }
        if rest.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return float(rest, negative: negative)
        }
        if let problem = integerPartProblem(rest) { return .failure(NumberError(reason: problem)) }
        let digits = rest.filter { $0 != "_" }
        // Parsing the magnitude unsigned lets -9223372036854775808 through.
        guard let magnitude = UInt64(digits) else {
            return .failure(NumberError(reason: "out of range for a 64-bit signed integer"))
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else {
                return .failure(NumberError(reason: "out of range for a 64-bit signed integer"))
            }
            return .success(.integer(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)))
        }
        guard magnitude <= UInt64(Int64.max) else {
            return .failure(NumberError(reason: "out of range for a 64-bit signed integer"))
        }
        return .success(.integer(Int64(magnitude)))
    }

    private static func float(_ text: Substring, negative: Bool) -> Result<TOMLValue, NumberError> {
        var mantissa = text
        var exponent: Substring?
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = text[text.index(after: e)...]
        }
        var integerPart = mantissa
        var fraction: Substring?
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<dot]
            fraction = mantissa[mantissa.index(after: dot)...]
        }
        if integerPart.isEmpty {
            return .failure(NumberError(reason: "a float needs digits before the decimal point"))
        }
        if let problem = integerPartProblem(integerPart) { return .failure(NumberError(reason: problem)) }
        if let fraction {
            if fraction.isEmpty {
                return .failure(NumberError(reason: "a decimal point must be followed by digits"))
            }
            if let problem = digitProblem(fraction, radix: 10) { return .failure(NumberError(reason: problem)) }
        }
        if var exponent {
            if let c = exponent.first, c == "+" || c == "-" { exponent = exponent.dropFirst() }
            if exponent.isEmpty {
                return .failure(NumberError(reason: "an exponent must have digits"))
            }
            if let problem = digitProblem(exponent, radix: 10) { return .failure(NumberError(reason: problem)) }
        }
        guard let magnitude = Double(text.filter { $0 != "_" }) else {
            return .failure(NumberError(reason: "not a valid float"))
        }
        guard magnitude.isFinite else {
            return .failure(NumberError(reason: "out of range for a 64-bit float"))
        }
        return .success(.float(negative ? -magnitude : magnitude))
    }

    /// The integer part of a decimal number: digits, underscores between digits, no leading zero.
    private static func integerPartProblem(_ digits: Substring) -> String? {
        if let problem = digitProblem(digits, radix: 10) { return problem }
        if digits.first == "0" && digits.count > 1 { return "leading zeros are not allowed" }
        return nil
    }

    /// Digits of the radix, with each underscore between two digits.
    private static func digitProblem(_ digits: Substring, radix: Int) -> String? {
        if digits.isEmpty { return "digits are missing" }
        var previousWasDigit = false
        for c in digits {
            if c == "_" {
                if !previousWasDigit { return "an underscore must be between two digits" }
                previousWasDigit = false
            } else if c.hexDigitValue.map({ $0 < radix }) == true {
                previousWasDigit = true
            } else {
                return "'\(c)' is not a digit here"
            }
        }
        return previousWasDigit ? nil : "an underscore must be between two digits"
    }

    // MARK: Date-times

    /// An offset or local date-time or a local date; kept as written once validated.
    mutating func parseDateTime() throws(TOMLParseError) -> TOMLValue {
        let start = pos
        let year = readDigits(4)
        pos += 1  // '-'
        guard let month = readDigits(2), peek() == UInt8(ascii: "-") else {
            throw invalidDateTime(start, "expected YYYY-MM-DD")
        }
        pos += 1
        guard let day = readDigits(2) else { throw invalidDateTime(start, "expected YYYY-MM-DD") }
        guard (1...12).contains(month) else { throw invalidDateTime(start, "month must be 01 to 12") }
        guard (1...Self.daysIn(month: month, year: year ?? 0)).contains(day) else {
            throw invalidDateTime(start, "day \(day) does not exist in that month")
        }
        var hasTime = false
        switch peek() {
        case UInt8(ascii: "T"), UInt8(ascii: "t"):
            pos += 1
            hasTime = true
        case .space where isDigitRun(at: 1, count: 2) && peek(3) == UInt8(ascii: ":"):
            // RFC 3339 allows a space in place of the T; only a time may follow it.
            pos += 1
            hasTime = true
        default:
            break
        }
        if hasTime {
            try parseTime(start)
            switch peek() {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                pos += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                pos += 1
                guard let hours = readDigits(2), peek() == UInt8(ascii: ":") else {
                    throw invalidDateTime(start, "expected a time offset like +01:00")
                }
                pos += 1
                guard let minutes = readDigits(2) else {
                    throw invalidDateTime(start, "expected a time offset like +01:00")
                }
                guard hours <= 23 && minutes <= 59 else {
                    throw invalidDateTime(start, "time offset out of range")
                }
            default:
                break
            }
        }
        try checkDateTimeEnds(start)
        return .datetime(String(decoding: bytes[start..<pos], as: UTF8.self))
    }

    /// `HH:MM:SS[.fraction]` on its own.
    mutating func parseLocalTime() throws(TOMLParseError) -> TOMLValue {
        let start = pos
        try parseTime(start)
        try checkDateTimeEnds(start)
        return .datetime(String(decoding: bytes[start..<pos], as: UTF8.self))
    }

    private mutating func parseTime(_ start: Int) throws(TOMLParseError) {
        guard let hour = readDigits(2), peek() == UInt8(ascii: ":") else {
            throw invalidDateTime(start, "expected a time HH:MM:SS")
        }
        pos += 1
        guard let minute = readDigits(2), peek() == UInt8(ascii: ":") else {
            throw invalidDateTime(start, "expected a time HH:MM:SS (seconds are required)")
        }
        pos += 1
        guard let second = readDigits(2) else { throw invalidDateTime(start, "expected a time HH:MM:SS") }
        guard hour <= 23, minute <= 59, second <= 60 else {
            throw invalidDateTime(start, "time out of range")
        }
        if peek() == .dot {
            pos += 1
            guard peek()?.isDigit == true else {
                throw invalidDateTime(start, "fractional seconds need digits after '.'")
            }
            while peek()?.isDigit == true { pos += 1 }
        }
    }

    private mutating func checkDateTimeEnds(_ start: Int) throws(TOMLParseError) {
        if let b = peek(), b.isBareKeyByte || b == .dot || b == UInt8(ascii: ":") || b == UInt8(ascii: "+") {
            throw invalidDateTime(start, "unexpected \(describeHere())")
        }
    }

    private mutating func readDigits(_ count: Int) -> Int? {
        guard isDigitRun(at: 0, count: count) else { return nil }
        var value = 0
        for _ in 0..<count {
            value = value * 10 + Int(bytes[pos] - UInt8(ascii: "0"))
            pos += 1
        }
        return value
    }

    private func invalidDateTime(_ start: Int, _ reason: String) -> TOMLParseError {
        var end = start
        while end < bytes.count, bytes[end].isBareKeyByte || [.dot, UInt8(ascii: ":"), UInt8(ascii: "+")].contains(bytes[end]) {
            end += 1
        }
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        return error(at: start, "invalid date-time '\(text)': \(reason)")
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
