#!/usr/bin/env bash
# Builds the Debian package .build/deb/authzd_VERSION_ARCH.deb with the system's own tools: the
# files staged by `make install-files` (PREFIX=/usr), Depends computed by dpkg-shlibdeps from the
# binaries, maintainer scripts from this directory, dpkg-deb. Called by `make deb` after the
# static build; the binaries must not need the Swift toolchain (checked with ldd).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=${1:?usage: build.sh VERSION}
ARCH=$(dpkg --print-architecture)
OUT=.build/deb
STAGE=$OUT/root
rm -rf "$OUT"
mkdir -p "$STAGE/DEBIAN"

make --no-print-directory -s install-files DESTDIR="$PWD/$STAGE" PREFIX=/usr \
    UNITDIR=/usr/lib/systemd/system SYSUSERSDIR=/usr/lib/sysusers.d \
    ZSHCOMPDIR=/usr/share/zsh/vendor-completions FISHCOMPDIR=/usr/share/fish/vendor_completions.d

# Nothing may point into a Swift toolchain: the package must run where none is installed.
for b in "$STAGE"/usr/bin/authzd "$STAGE"/usr/bin/authzd-nginx; do
    if ldd "$b" | grep -Ei 'swift|not found'; then
        echo "$b needs libraries a plain Debian machine lacks (above); build with --static-swift-stdlib" >&2
        exit 1
    fi
    strip --strip-unneeded "$b"
done
gzip -9n "$STAGE"/usr/share/man/man1/*.1
# The directory is owned by the package; its group (authzd) is set by postinst.
chmod 0750 "$STAGE/etc/authzd/secrets"

# Depends, from the libraries the binaries load (dpkg-shlibdeps wants a debian/control).
SHLIBS=$(mktemp -d)
trap 'rm -rf "$SHLIBS"' EXIT
mkdir -p "$SHLIBS/debian"
printf 'Source: authzd\n\nPackage: authzd\nArchitecture: any\n' > "$SHLIBS/debian/control"
DEPENDS=$(cd "$SHLIBS" && dpkg-shlibdeps -O "$OLDPWD/$STAGE/usr/bin/authzd" "$OLDPWD/$STAGE/usr/bin/authzd-nginx" \
    | sed -n 's/^shlibs:Depends=//p')
[ -n "$DEPENDS" ] || { echo "dpkg-shlibdeps found no dependencies" >&2; exit 1; }

SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: authzd
Version: $VERSION
Architecture: $ARCH
Maintainer: authzd maintainers <root@localhost>
Installed-Size: $SIZE
Depends: $DEPENDS, systemd
Suggests: nginx
Section: net
Priority: optional
Description: authorization sidecar for applications behind nginx
 authzd answers "may this HTTP request through?" on a Unix socket, one JSON line per
 question, with a chain of plugins per app: IP allowlists, HMAC-signed JWTs and JWTs from an
 identity provider's JWKS endpoint. authzd-nginx answers nginx auth_request subrequests by
 asking it. Socket activation, sd_notify, watchdog and structured journald records.
CONTROL
echo /etc/authzd/authzd.toml > "$STAGE/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$STAGE/DEBIAN/"

dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT/authzd_${VERSION}_${ARCH}.deb" >/dev/null
rm -rf "$STAGE"
echo "$OUT/authzd_${VERSION}_${ARCH}.deb (Depends: $DEPENDS, systemd)"
