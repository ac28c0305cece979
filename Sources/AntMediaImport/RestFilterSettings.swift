/// The settings of an Ant Media app that decide its REST filter, each with where it came from.
/// Ant Media reads every setting under its plain name and, for files written by older versions,
/// under `settings.NAME`; when both are present the plain one wins, whatever its value.
public struct RestFilterSettings: Sendable {
    /// A setting's value and the property that gave it (nil when the default applies).
    public struct Sourced<Value: Sendable>: Sendable {
        public let value: Value
        public let entry: JavaProperties.Entry?

        /// The line to blame in a message; 0 for a default.
        public var line: Int { entry?.line ?? 0 }
        /// How the setting was spelled in the file, or its plain name with "(default)".
        public func origin(_ name: String) -> String {
            guard let entry else { return "\(name) by default" }
            return "\(entry.key), line \(entry.line)"
        }
    }

    /// `ipFilterEnabled`, default true.
    public let ipFilterEnabled: Sourced<Bool>
    /// `remoteAllowedCIDR` split at commas, each entry trimmed, empty entries dropped;
    /// default `["127.0.0.1"]`.
    public let remoteAllowedCIDR: Sourced<[String]>
    /// `jwtControlEnabled`, default false.
    public let jwtControlEnabled: Sourced<Bool>
    /// `jwtSecretKey`, if present.
    public let jwtSecretKey: JavaProperties.Entry?
    /// `jwksURL`, if present and not blank.
    public let jwksURL: JavaProperties.Entry?

    public static let defaultAllowedCIDR = ["127.0.0.1"]

    /// Reads the REST filter settings; a switch that is neither true nor false is an error.
    public static func read(_ properties: JavaProperties, file: String) -> Result<RestFilterSettings, AntMediaImportErrors> {
        var errors: [AntMediaImportError] = []
        func flag(_ name: String, default value: Bool) -> Sourced<Bool> {
            guard let e = lookup(properties, name) else { return Sourced(value: value, entry: nil) }
            switch parseBoolean(e.value) {
            case .some(let b): return Sourced(value: b, entry: e)
            case .none:
                errors.append(AntMediaImportError(
                    .badBoolean, file: file, line: e.line,
                    message: "\(e.key) is \(quoted(e.value)), which is neither true nor false; Ant Media versions read such a value differently (\"yes\", \"on\" and \"1\" are true to some, false to others), so write true or false"))
                return Sourced(value: value, entry: e)
            }
        }
        let ip = flag("ipFilterEnabled", default: true)
        let jwt = flag("jwtControlEnabled", default: false)
        let cidrs: Sourced<[String]>
        if let e = lookup(properties, "remoteAllowedCIDR") {
            cidrs = Sourced(value: splitList(e.value), entry: e)
        } else {
            cidrs = Sourced(value: defaultAllowedCIDR, entry: nil)
        }
        let url = lookup(properties, "jwksURL").flatMap { e in trimmed(e.value).isEmpty ? nil : e }
        guard errors.isEmpty else { return .failure(AntMediaImportErrors(errors)) }
        return .success(RestFilterSettings(ipFilterEnabled: ip, remoteAllowedCIDR: cidrs, jwtControlEnabled: jwt,
                                           jwtSecretKey: lookup(properties, "jwtSecretKey"), jwksURL: url))
    }

    /// The plain spelling if present, else the legacy `settings.` one.
    static func lookup(_ properties: JavaProperties, _ name: String) -> JavaProperties.Entry? {
        properties[name] ?? properties["settings." + name]
    }

    /// Ant Media's switches: `true` and `false` in any case (blanks around them ignored); nil for
    /// anything else, which the importer refuses rather than guess.
    static func parseBoolean(_ text: String) -> Bool? {
        switch trimmed(text).lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// `a, b,,c ` → `["a", "b", "c"]`.
    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { trimmed(String($0)) }.filter { !$0.isEmpty }
    }

    static func trimmed(_ s: String) -> String {
        var sub = Substring(s)
        while let f = sub.first, f == " " || f == "\t" || f == "\u{0C}" || f == "\r" || f == "\n" { sub = sub.dropFirst() }
        while let l = sub.last, l == " " || l == "\t" || l == "\u{0C}" || l == "\r" || l == "\n" { sub = sub.dropLast() }
        return String(sub)
    }

    /// A value quoted for a message, cut short so a huge one cannot flood the terminal.
    static func quoted(_ s: String) -> String {
        let cut = s.count > 80 ? String(s.prefix(80)) + "…" : s
        return "\"" + cut + "\""
    }
}
