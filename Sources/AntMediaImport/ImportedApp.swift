import AuthzText

/// One Ant Media app turned into an authzd chain: the steps that reproduce its REST filter, in
/// Ant Media's order (IP filter, then JWT filter), and the app file that holds them.
public struct ImportedApp: Sendable, Equatable {
    /// A chain step, with where in `red5-web.properties` it came from.
    public enum Step: Sendable, Equatable {
        /// Ant Media's IP filter.
        case ipAllowlist(allow: [String], origin: String)
        /// Ant Media's JWT filter with its HMAC secret (HS256; `exp` checked when present).
        case jwtHMAC(secret: String, origin: String)
        /// Ant Media's JWT filter with `jwksURL` (RS256, as Ant Media verifies).
        case jwks(url: String, origin: String)

        /// The plugin this step names.
        public var plugin: String {
            switch self {
            case .ipAllowlist: "ip_allowlist"
            case .jwtHMAC: "jwt_hmac"
            case .jwks: "jwks"
            }
        }
    }

    /// The authzd app name (the Ant Media app's directory name).
    public let name: String
    /// The `red5-web.properties` file it came from.
    public let source: String
    public let steps: [Step]

    public init(name: String, source: String, steps: [Step]) {
        self.name = name
        self.source = source
        self.steps = steps
    }

    /// Whether the app file holds a secret, and so must not be world-readable.
    public var holdsSecret: Bool {
        steps.contains { if case .jwtHMAC = $0 { true } else { false } }
    }

    /// The app file. The same settings always give the same bytes (no dates, fixed order), so
    /// a second import finds the file unchanged. With `maskingSecrets`, each secret is replaced
    /// by a placeholder giving only its length (for `--dry-run` on a terminal); that text is
    /// for reading, not loading.
    public func render(maskingSecrets: Bool = false) -> String {
        var out = """
            \(Self.firstLine(name))
            # \(LogText.escaped(source))
            # A new import replaces this file. To edit it by hand, delete the first line: imports
            # then leave the file alone.

            """
        if holdsSecret {
            out += "# It holds the app's JWT secret: keep it mode 0640, readable by authzd's group only.\n"
        }
        for step in steps {
            out += "\n"
            switch step {
            case .ipAllowlist(let allow, let origin):
                out += "# Ant Media's IP filter (\(origin)).\n"
                out += stepHeader(step)
                out += "allow = \(TOMLText.stringArray(allow))\n"
            case .jwtHMAC(let secret, let origin):
                out += "# Ant Media's JWT filter with its secret (\(origin)): HS256, exp checked when present.\n"
                out += stepHeader(step)
                if maskingSecrets {
                    out += "secret = \"********\"    # \(secret.utf8.count) bytes, not shown\n"
                } else {
                    out += "secret = \(TOMLText.string(secret))\n"
                }
                out += "algorithms = [\"HS256\"]\n"
            case .jwks(let url, let origin):
                out += "# Ant Media's JWT filter with a JWKS endpoint (\(origin)): RS256, as Ant Media verifies.\n"
                out += stepHeader(step)
                out += "url = \(TOMLText.string(url))\n"
                out += "algorithms = [\"RS256\"]\n"
            }
        }
        return out
    }

    /// The first line of every file the importer writes; only a file that starts with it is
    /// replaced by a later import, so a hand-written app file (or one whose first line was
    /// deleted to take it over) is never overwritten.
    public static func firstLine(_ name: String) -> String {
        "# App \"\(name)\", imported by `authzd import antmedia` from"
    }

    /// Whether `bytes` (an existing app file) was written by the importer for app `name`.
    public static func isImportedFile(_ bytes: [UInt8], name: String) -> Bool {
        bytes.starts(with: Array((firstLine(name) + "\n").utf8))
    }

    private func stepHeader(_ step: Step) -> String {
        "[[chain]]\nplugin = \"\(step.plugin)\"\ncontrol = \"required\"\n"
    }
}
