import AuthzCore
import IPAllowlistPlugin
import JWKSPlugin
import JWTHMACPlugin
import OAuth2IntrospectionPlugin

/// The one place plugins are registered: adding a plugin is a folder under `plugins/` and a
/// line here.
public enum BuiltinPlugins {
    public static var registry: PluginRegistry {
        PluginRegistry([
            IPAllowlistFactory(),
            JWTHMACFactory(),
            JWKSFactory(),
            OAuth2IntrospectionFactory(),
        ])
    }
}
