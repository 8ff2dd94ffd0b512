#!/bin/sh
# install-debs.sh PACKAGE...: install the Debian packages among PACKAGE that are
# missing, with --no-install-recommends, while a temporary policy-rc.d keeps
# package scripts from starting any daemon. Idempotent; Debian 12, as root.
# Used by the install-packages.sh scripts of contrib/icinga and contrib/deploy.
set -eu
export DEBIAN_FRONTEND=noninteractive

missing=""
for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "install-debs: already installed: $*"
    exit 0
fi

policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then
    saved=$(mktemp)
    cp -p "$policy" "$saved"
fi
restore() {
    if [ -n "$saved" ]; then
        mv -f "$saved" "$policy"
        saved=""
    else
        rm -f "$policy"
    fi
}
trap restore EXIT
trap 'restore; exit 130' INT TERM
printf '#!/bin/sh\n# no service starts while install-debs.sh runs\nexit 101\n' >"$policy"
chmod 0755 "$policy"

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 $missing
echo "install-debs: installed:$missing"
