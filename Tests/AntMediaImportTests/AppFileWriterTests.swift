import AntMediaImport
import Foundation
import Testing

/// App files are written whole, with the right mode, and left alone when unchanged.
@Suite struct AppFileWriterTests {
    private func mode(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_mode & 0o7777) : -1
    }

    private func inode(_ path: String) -> UInt64 {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : 0
    }

    private func listing(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    @Test func createsThenLeavesAnIdenticalFileAloneThenReplacesAChangedOne() throws {
        let dir = try ScratchDirectory()
        let path = dir.path + "/LiveApp.toml"
        #expect(AppFileWriter.preview("a = 1\n", at: path) == .created)
        #expect(try AppFileWriter.write("a = 1\n", to: path, mode: 0o640).get() == .created)
        #expect(mode(path) == 0o640)
        let first = inode(path)

        #expect(AppFileWriter.preview("a = 1\n", at: path) == .unchanged)
        #expect(try AppFileWriter.write("a = 1\n", to: path, mode: 0o640).get() == .unchanged)
        #expect(inode(path) == first, "an unchanged file must not be rewritten")

        #expect(AppFileWriter.preview("a = 2\n", at: path) == .updated)
        #expect(try AppFileWriter.write("a = 2\n", to: path, mode: 0o640).get() == .updated)
        #expect(inode(path) != first, "a changed file is replaced by rename, not written in place")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a = 2\n")
        #expect(try listing(dir.path) == ["LiveApp.toml"], "no temporary file is left behind")
    }

    @Test func anUnchangedFileThatAllowsTooMuchIsTightened() throws {
        let dir = try ScratchDirectory()
        let path = try dir.write("a.toml", "secret = \"x\"\n")
        chmod(path, 0o666)
        #expect(try AppFileWriter.write("secret = \"x\"\n", to: path, mode: 0o640).get() == .unchanged)
        #expect(mode(path) == 0o640)
    }

    @Test func aMissingDirectoryIsAnErrorAndLeavesNothing() throws {
        let dir = try ScratchDirectory()
        let result = AppFileWriter.write("x\n", to: dir.path + "/missing/a.toml", mode: 0o640)
        guard case .failure(let e) = result else { Issue.record("wrote into a missing directory"); return }
        #expect(e.message.contains("missing"))
        #expect(try listing(dir.path).isEmpty)
    }

    @Test func aReplacedFileKeepsItsGroup() throws {
        let dir = try ScratchDirectory()
        let path = try dir.write("a.toml", "old\n")
        // Root may give any group; anyone else, one of their other groups.
        var groups = [gid_t](repeating: 0, count: 64)
        let n = Int(getgroups(Int32(groups.count), &groups))
        let other: gid_t? = geteuid() == 0 ? 4242 : groups.prefix(max(n, 0)).first { $0 != getegid() }
        guard let other else {
            Issue.record("needs root or a user with a second group to change a file's group")
            return
        }
        #expect(chown(path, geteuid(), other) == 0)
        #expect(try AppFileWriter.write("new\n", to: path, mode: 0o640).get() == .updated)
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_gid == other)
        #expect(st.st_mode & 0o7777 == 0o640)
    }
}
