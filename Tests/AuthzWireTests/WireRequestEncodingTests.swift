import AuthzCore
import AuthzJSON
import AuthzWire
import NIOCore
import Testing

/// The request line every client writes, read back by the daemon's own decoder.
@Suite struct WireRequestEncodingTests {
    private func encoded(_ request: WireRequest) -> ByteBuffer {
        var b = ByteBuffer()
        request.encode(into: &b)
        return b
    }

    /// Decodes a line as the daemon does, without its `\n` (checking there is exactly one).
    private func decoded(_ line: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation) -> WireRequest {
        let bytes = Array(line.readableBytesView)
        #expect(bytes.last == 0x0A, sourceLocation: sourceLocation)
        #expect(!bytes.dropLast().contains(0x0A), "one line only", sourceLocation: sourceLocation)
        return bytes.dropLast().withUnsafeBytes { WireRequest.decode($0) }
    }

    @Test func aCheckDecodesBackToTheSameRequest() throws {
        let sent = CheckRequest(
            id: "r-1", app: "live", remoteAddr: "2001:db8::1", method: "POST", path: "/a?q=\"x\"&b=\\",
            headers: Headers([("authorization", "Bearer t"), ("x-ctl", "tab\tnl\nnul\u{0}del\u{7f}é")]))
        guard case .check(let got) = decoded(encoded(.check(sent))) else {
            Issue.record("not decoded as a check")
            return
        }
        #expect(got.id == sent.id)
        #expect(got.app == sent.app)
        #expect(got.remoteAddr == sent.remoteAddr)
        #expect(got.remoteIP == sent.remoteIP)
        #expect(got.method == sent.method)
        #expect(got.path == sent.path)
        #expect(got.headers == sent.headers)
    }

    @Test func aCheckWithoutIdOrOptionalFieldsHasOnlyOpAppAndHeaders() {
        let line = encoded(.check(CheckRequest(app: "a")))
        #expect(String(buffer: line) == #"{"op":"check","app":"a","headers":{}}"# + "\n")
    }

    @Test func numericIdsKeepTheirText() {
        let id = JSONValue.number(JSONNumber(text: "123456789012345678901", double: 1.2345678901234568e20))
        let line = encoded(.check(CheckRequest(id: id, app: "a")))
        #expect(String(buffer: line).hasPrefix(#"{"id":123456789012345678901,"op":"check""#))
    }

    /// The form the shim and the bench send: an integer id first, `op`, then the fields in the
    /// order SPEC §3 lists them.
    @Test func anIntegerIdCheckHasItsFixedLayout() {
        var b = ByteBuffer()
        WireRequest.encodeCheck(
            id: 42, app: "live", remoteAddr: "10.0.0.1", method: "GET", path: "/",
            headers: [HeaderField(name: "authorization", value: "Bearer t"), HeaderField(name: "x-a", value: "1")], into: &b)
        #expect(String(buffer: b)
            == #"{"id":42,"op":"check","app":"live","remote_addr":"10.0.0.1","method":"GET","path":"/","headers":{"authorization":"Bearer t","x-a":"1"}}"# + "\n")
    }

    @Test(arguments: [0, 7, 10, 99, -1, -1234, Int.max, Int.min])
    func integerIdsAreWrittenExactly(_ id: Int) throws {
        var b = ByteBuffer()
        WireRequest.encodeCheck(id: id, app: "a", remoteAddr: nil, method: nil, path: nil, headers: [], into: &b)
        #expect(String(buffer: b).hasPrefix("{\"id\":\(id),"))
        guard case .check(let r) = decoded(b) else {
            Issue.record("not decoded as a check")
            return
        }
        #expect(r.id?.numberValue?.text == String(id))
    }

    /// Values made only of characters that must be escaped take six bytes each; the line stays
    /// whole. An id of another JSON type (which the daemon refuses) is still written as given.
    @Test func everyFieldEscapesFullyAndAnyIdIsWritten() throws {
        let nasty = String(repeating: "\u{1}\u{1f}\"\\\n", count: 300)
        var b = ByteBuffer()
        WireRequest.encodeCheck(id: Int.min, app: nasty, remoteAddr: nasty, method: nasty, path: nasty,
                                headers: [HeaderField(name: nasty, value: nasty)], into: &b)
        let bytes = Array(b.readableBytesView)
        #expect(bytes.firstIndex(of: 0x0A) == bytes.count - 1)
        let object = try #require(try JSONParser.parse(bytes.dropLast(), options: .init(rejectDuplicateKeys: true)).objectValue)
        #expect(object["path"] == .string(nasty))
        #expect(object["headers"] == .object(JSONObject([(nasty, .string(nasty))])))
        #expect(object["id"]?.numberValue?.text == String(Int.min))

        let odd = encoded(.check(CheckRequest(id: .array([true, "x"]), app: "a")))
        #expect(String(buffer: odd) == #"{"id":[true,"x"],"op":"check","app":"a","headers":{}}"# + "\n")
    }

    @Test func pingAndStatsAndTheirIds() {
        #expect(String(buffer: encoded(.ping(id: 3))) == #"{"id":3,"op":"ping"}"# + "\n")
        #expect(String(buffer: encoded(.ping(id: nil))) == #"{"op":"ping"}"# + "\n")
        #expect(String(buffer: encoded(.stats(id: "s"))) == #"{"id":"s","op":"stats"}"# + "\n")
        var b = ByteBuffer()
        WireRequest.encodePing(id: 9, into: &b)
        guard case .ping(let id) = decoded(b) else {
            Issue.record("not decoded as a ping")
            return
        }
        #expect(id == 9)
    }

    @Test func anInvalidRequestHasNoLine() {
        #expect(encoded(.invalid(id: 1, message: "m")).readableBytes == 0)
    }
}
