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
}
