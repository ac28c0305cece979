import AuthzJSON
import AuthzNginx
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The shim's mapping from an nginx subrequest to a check line. Whatever the request, the line
/// is one line (a single `\n`, at the end) of strict JSON whose fields are exactly what the
/// mapping chose, so no header can smuggle a field or a second request to authzd.
///
/// Input: byte 0 even: raw HTTP/1 bytes, decoded by NIO's parser as in the shim; odd: a request
/// head built directly from NUL-separated name/value strings, which reaches characters the
/// HTTP parser would refuse.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 1, let data else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    if input[0] & 1 == 0 {
        for head in decodeHeads(input[1...]) { check(head) }
    } else {
        check(structuredHead(input[1...]))
    }
    return 0
}

private func decodeHeads(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> [HTTPRequestHead] {
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    do {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    } catch {
        // A parse error ends the connection; heads decoded before it still count.
    }
    var heads: [HTTPRequestHead] = []
    while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
        if case .head(let head) = part { heads.append(head) }
    }
    return heads
}

private func structuredHead(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> HTTPRequestHead {
    let fields = bytes.split(separator: 0, omittingEmptySubsequences: false)
    var headers = HTTPHeaders()
    var i = 0
    while i + 1 < fields.count {
        // NIO requires ASCII names (a precondition); values may be anything.
        let name = String(decoding: fields[i].map { $0 & 0x7F }, as: UTF8.self)
        headers.add(name: name, value: String(decoding: fields[i + 1], as: UTF8.self))
        i += 2
    }
    return HTTPRequestHead(version: .http1_1, method: .GET, uri: "/auth", headers: headers)
}

private let mappingHeaders = ["x-authz-app", "x-real-ip", "x-original-method", "x-original-uri"]
private let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer",
                                     "transfer-encoding", "upgrade", "content-length", "host"]

private func check(_ head: HTTPRequestHead) {
    // A subrequest the shim refuses itself (no or bad app, a repeated or control-character
    // mapping header) never becomes a line; everything else must.
    let request: SubrequestMapping
    do {
        request = try SubrequestMapping(head: head)
    } catch {
        return
    }
    let line = request.line(id: 12345)
    guard line.last == 0x0A, line.firstIndex(of: 0x0A) == line.count - 1 else {
        fatalError("check line is not exactly one line: \(String(decoding: line, as: UTF8.self))")
    }
    let value: JSONValue
    do {
        value = try JSONParser.parse(line.dropLast(), options: .init(rejectDuplicateKeys: true))
    } catch {
        fatalError("check line is not strict JSON (\(error)): \(String(decoding: line, as: UTF8.self))")
    }
    guard let object = value.objectValue else { fatalError("check line is not an object") }
    guard object["id"] == 12345, object["op"] == "check" else { fatalError("id or op changed") }

    // Each mapped field is the first header of its name, compared without regard to case.
    let expected = zip(["app", "remote_addr", "method", "path"], mappingHeaders).map { field, header in
        (field, head.headers.first { CheckRequestFuzzing.lowercased($0.name) == header }?.value)
    }
    for (field, header) in expected {
        guard object[field]?.stringValue == header else {
            fatalError("\(field) is \(String(describing: object[field])), the header \(String(describing: header))")
        }
    }
    guard let headers = object["headers"]?.objectValue else { fatalError("headers is not an object") }
    guard object.count == 3 + expected.filter({ $0.1 != nil }).count else { fatalError("unexpected member") }
    for member in headers.members {
        guard let value = member.value.stringValue else { fatalError("a header value is not a string") }
        let name = member.key
        guard !name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { fatalError("header name \(name) not lowercase") }
        guard !hopByHop.contains(name), !name.hasPrefix("x-original-"), !mappingHeaders.contains(name) else {
            fatalError("header \(name) should not be forwarded")
        }
        // The forwarded value holds every value of that name, in order.
        let values = head.headers.filter { CheckRequestFuzzing.lowercased($0.name) == name }.map(\.value)
        guard !values.isEmpty, value == values.joined(separator: name == "cookie" ? "; " : ", ") else {
            fatalError("header \(name) forwarded as \(value), sent as \(values)")
        }
    }
}

enum CheckRequestFuzzing {
    /// ASCII lowercasing, as header names are compared.
    static func lowercased(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
