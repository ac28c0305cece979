// The HTTP fetch contract and bounded file reads live below the core (in AuthzIO) so that the
// libcurl wrapper can implement the one and use the other without depending on the core. They are
// part of the plugin API (`PluginContext.fetcher`, secret files), so every importer of the core
// sees them as before.
@_exported import AuthzIO
