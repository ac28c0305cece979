// The test vectors are found and loaded by the shared AuthzTestSupport target.
@_exported import AuthzTestSupport
