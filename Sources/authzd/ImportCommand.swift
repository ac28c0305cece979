import AntMediaImport
import ArgumentParser
import AuthzCore
import AuthzPlugins
import AuthzTOML
import AuthzText

#if canImport(Glibc)
import Glibc
#endif

/// `authzd import SOURCE`: turns another server's access settings into authzd apps.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write authzd apps from another server's settings.",
        subcommands: [ImportAntMedia.self])
}

/// `authzd import antmedia`: one `apps_dir/APP.toml` per Ant Media app, reproducing its REST
/// filter (SPEC §8). An app that cannot be imported safely gets `FILE:LINE: message` lines and no
/// file; the others are still written; the exit status is 1 if any app failed.
struct ImportAntMedia: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "antmedia",
        abstract: "Ant Media apps' REST filter settings -> one app file each in apps_dir.",
        discussion: """
            Reads every WEBAPPS/APP/WEB-INF/red5-web.properties. Exit 0 when every app was imported, \
            1 when any was refused (nothing is written for it), 66 when WEBAPPS or the configuration \
            cannot be read.
            """)

    @Option(help: "Ant Media's webapps directory.")
    var webapps: String = AntMediaWebapps.defaultDirectory

    @Option(help: "Where to write APP.toml (default: apps_dir of the configuration).")
    var out: String?

    @Flag(name: .customLong("dry-run"), help: "Print what would be written (secrets masked); write nothing.")
    var dryRun = false

    @OptionGroup var options: ConfigOption

    func run() throws {
        let (outDir, inlineApps) = try outputDirectory()
        var st = stat()
        guard stat(outDir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw failure("import antmedia", "\(LogText.escaped(outDir)) is not a directory", exitCode: 1)
        }
        let webappsDir = Self.absolute(webapps)
        let apps: [AntMediaWebapps.App]
        switch AntMediaWebapps.apps(in: webappsDir) {
        case .success(let a): apps = a
        case .failure(let e): throw failure("import antmedia", LogText.escaped(e.message), exitCode: ExitStatus.noInput)
        }
        guard !apps.isEmpty else {
            throw failure("import antmedia", "no Ant Media apps in \(LogText.escaped(webappsDir)) (no */\(AntMediaWebapps.propertiesPath))",
                          exitCode: 1)
        }

        let importer = AntMediaImporter(registry: BuiltinPlugins.registry)
        var refused = 0
        var kept = 0
        var counts: [AppFileWriter.Outcome: Int] = [:]
        for found in apps {
            var result = importer.importApp(name: found.name, file: found.propertiesFile)
            if case .success = result, inlineApps.contains(found.name) {
                result = .failure(AntMediaImportErrors([AntMediaImportError(
                    .definedInline, file: found.propertiesFile, line: 0,
                    message: "app \(found.name) is already defined inline in \(options.config) ([apps.\(found.name)]); remove it there to import it")]))
            }
            let app: ImportedApp
            switch result {
            case .success(let a): app = a
            case .failure(let errors):
                for e in errors.errors { printError(e.description) }
                refused += 1
                continue
            }
            let path = outDir + "/" + app.name + ".toml"
            let mode: mode_t = app.holdsSecret ? 0o640 : 0o644
            let steps = app.steps.map(\.plugin).joined(separator: ", ")
            var st = stat()
            if lstat(path, &st) == 0, !Self.isImportedFile(path, name: app.name) {
                // Written or taken over by hand: an import must not replace someone's edits.
                kept += 1
                print("\(app.name): kept \(LogText.escaped(path)) (not written by the importer; move it aside to import)")
                continue
            }
            if dryRun {
                let outcome = AppFileWriter.preview(app.render(), at: path)
                counts[outcome, default: 0] += 1
                print("--- \(LogText.escaped(path)) (\(Self.wouldDo(outcome)), mode 0\(String(mode, radix: 8)))")
                print(app.render(maskingSecrets: true), terminator: "")
                continue
            }
            switch AppFileWriter.write(app.render(), to: path, mode: mode) {
            case .success(let outcome):
                counts[outcome, default: 0] += 1
                print("\(app.name): \(outcome.rawValue) \(LogText.escaped(path)) (\(steps))")
            case .failure(let e):
                printError("authzd import antmedia: \(app.name): \(LogText.escaped(e.message))")
                refused += 1
            }
        }
        let done = apps.count - refused - kept
        let detail = [AppFileWriter.Outcome.created, .updated, .unchanged]
            .map { "\(counts[$0, default: 0]) \(dryRun ? Self.wouldDo($0) : $0.rawValue)" }.joined(separator: ", ")
            + (kept > 0 ? ", \(kept) kept as written by hand" : "")
        print("\(done) of \(apps.count) apps \(dryRun ? "would be imported" : "imported") (\(detail))")
        if refused > 0 {
            throw failure("import antmedia", "\(refused) app\(refused == 1 ? "" : "s") not imported; nothing was written for \(refused == 1 ? "it" : "them")",
                          exitCode: 1)
        }
    }

    /// `--out`, or the configuration's `apps_dir` (relative to the configuration file), and the
    /// apps the configuration defines inline (an app file of the same name would clash).
    private func outputDirectory() throws -> (String, Set<String>) {
        if let out { return (Self.absolute(out), []) }
        let root: TOMLTable
        do {
            root = try ConfigLoader.parseFile(options.config)
        } catch {
            if error.line == 0 {
                throw failure("import antmedia", "\(LogText.escaped(error.message)) (give --out DIR, or --config FILE to find apps_dir)",
                              exitCode: ExitStatus.noInput)
            }
            printError(error.description)
            throw ExitCode(1)
        }
        var appsDir = ServerSettings().appsDir
        if let server = root["server"], case .table(let t) = server.value, let node = t["apps_dir"] {
            guard case .string(let s) = node.value, !s.isEmpty else {
                printError(ConfigError(file: options.config, line: node.line, message: "server.apps_dir must be a string").description)
                throw ExitCode(1)
            }
            appsDir = s
        }
        var inline: Set<String> = []
        if let apps = root["apps"], case .table(let t) = apps.value { inline = Set(t.keys) }
        if appsDir.hasPrefix("/") { return (appsDir, inline) }
        let config = Self.absolute(options.config)
        let base = config.lastIndex(of: "/").map { String(config[..<$0]) } ?? "."
        return ((base.isEmpty ? "" : base) + "/" + appsDir, inline)
    }

    /// Whether the file at `path` is one the importer wrote (and so may replace); a file it
    /// cannot read counts as not.
    private static func isImportedFile(_ path: String, name: String) -> Bool {
        // Anything but a regular file (a FIFO would block the read) was not written by us.
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        guard case .success(let bytes) = readFileBytes(path, limit: AntMediaImporter.maximumFileBytes) else { return false }
        return ImportedApp.isImportedFile(bytes, name: name)
    }

    private static func wouldDo(_ outcome: AppFileWriter.Outcome) -> String {
        switch outcome {
        case .created: "would create"
        case .updated: "would update"
        case .unchanged: "unchanged"
        }
    }

    /// `path` made absolute against the working directory, so the header of an app file names
    /// its source the same way however the command was typed.
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let rest = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return (cwd == "/" ? "" : cwd) + "/" + rest
    }
}
