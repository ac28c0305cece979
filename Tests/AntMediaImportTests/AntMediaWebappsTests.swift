import AntMediaImport
import Testing

/// Which directories under webapps are apps.
@Suite struct AntMediaWebappsTests {
    @Test func onlyDirectoriesWithRed5WebPropertiesAreAppsInNameOrder() throws {
        let dir = try ScratchDirectory()
        try dir.write("WebRTCAppEE/WEB-INF/red5-web.properties", "")
        try dir.write("LiveApp/WEB-INF/red5-web.properties", "")
        try dir.write("root/index.html", "")
        try dir.write("notes.txt", "")
        try dir.mkdir("Empty/WEB-INF")
        let apps = try AntMediaWebapps.apps(in: dir.path + "/").get()
        #expect(apps.map(\.name) == ["LiveApp", "WebRTCAppEE"])
        #expect(apps.first?.propertiesFile == dir.path + "/LiveApp/WEB-INF/red5-web.properties")
    }

    @Test func aPropertiesPathThatIsNotAFileIsStillAnAppForTheImporterToRefuse() throws {
        let dir = try ScratchDirectory()
        try dir.mkdir("Broken/WEB-INF/red5-web.properties")
        let apps = try AntMediaWebapps.apps(in: dir.path).get()
        #expect(apps.map(\.name) == ["Broken"])
    }

    @Test func aMissingWebappsDirectoryIsAnError() throws {
        let dir = try ScratchDirectory()
        guard case .failure(let e) = AntMediaWebapps.apps(in: dir.path + "/nope") else {
            Issue.record("listed a missing directory"); return
        }
        #expect(e.message.contains("cannot list"))
    }
}
