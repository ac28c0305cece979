#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AuthzCore

/// Ant Media's `webapps` directory: every subdirectory with a `WEB-INF/red5-web.properties` is an
/// app. Subdirectories without that file (Ant Media's own `root`, a stray folder) are not apps
/// and are skipped; a file that exists but cannot be read is the importer's error, not a skip.
public enum AntMediaWebapps {
    /// Ant Media Server's install location.
    public static let defaultDirectory = "/usr/local/antmedia/webapps"
    /// Where each app keeps its settings, under its directory.
    public static let propertiesPath = "WEB-INF/red5-web.properties"

    /// An app found under `webapps`.
    public struct App: Sendable, Equatable {
        /// The directory name, which becomes the authzd app name.
        public let name: String
        /// Its `WEB-INF/red5-web.properties`.
        public let propertiesFile: String
    }

    /// The apps under `directory`, by name; fails when the directory cannot be listed.
    public static func apps(in directory: String) -> Result<[App], FileMessage> {
        guard let d = opendir(directory) else {
            return .failure(FileMessage("cannot list \(directory): \(String(cString: strerror(errno)))"))
        }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var apps: [App] = []
        for name in names.sorted() {
            let file = "\(base)/\(name)/\(propertiesPath)"
            var st = stat()
            // Only "no such file" (or a path through a non-directory) means "not an app"; a file
            // we may not look at is reported by the importer when it fails to read it.
            if stat(file, &st) != 0 && (errno == ENOENT || errno == ENOTDIR) { continue }
            apps.append(App(name: name, propertiesFile: file))
        }
        return .success(apps)
    }
}
