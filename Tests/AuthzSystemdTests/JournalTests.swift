import Testing

@testable import AuthzSystemd

@Suite struct JournalTests {
    @Test(arguments: [
        ("authz_app", "AUTHZ_APP"),
        ("AUTHZ_REASON", "AUTHZ_REASON"),
        ("request-id", "REQUEST_ID"),
        ("remote.addr", "REMOTE_ADDR"),
        ("_SYSTEMD_UNIT", "SYSTEMD_UNIT"),
        ("9lives", "LIVES"),
        ("_1_x", "X"),
        ("üser", "SER"),
        ("käse", "K__SE"),
    ])
    func metadataKeysBecomeValidJournalFieldNames(key: String, expected: String) {
        #expect(Journal.fieldName(key) == expected)
    }

    @Test func keysWithNothingValidLeftHaveNoFieldName() {
        #expect(Journal.fieldName("") == nil)
        #expect(Journal.fieldName("___") == nil)
        #expect(Journal.fieldName("123") == nil)
        #expect(Journal.fieldName("-") == nil)
    }

    @Test func fieldNamesAreCutTo64Bytes() {
        let name = Journal.fieldName(String(repeating: "a", count: 100))
        #expect(name == String(repeating: "A", count: 64))
    }

    @Test func sendingWithoutFieldsIsRefused() {
        #expect(JournalRecord(capacity: 0).send() == false)
    }

    @Test func numbersAreWrittenInDecimal() {
        var record = JournalRecord(capacity: 3)
        record.append(prefix: Array("A=".utf8), number: 0)
        record.append(prefix: Array("B=".utf8), number: 407)
        record.append(prefix: Array("C=".utf8), number: UInt.max)
        #expect(record.fields.map(\.1) == ["0", "407", "\(UInt.max)"])
    }

    @Test func aMetadataKeyCannotPoseAsTheRecordsOwnFields() {
        var record = JournalRecord(capacity: 2)
        let reserved = [Array("MESSAGE".utf8)]
        record.append(sanitizing: "message", value: "forged", reserved: reserved)
        record.append(sanitizing: "message_id", value: "kept", reserved: reserved)
        #expect(record.fields.map(\.0) == ["META_MESSAGE", "MESSAGE_ID"])
    }
}
