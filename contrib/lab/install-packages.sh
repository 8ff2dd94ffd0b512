#!/bin/sh
# Install what the real-MTA lab (contrib/lab, tests/lab) needs on Debian 12.
#
#  - postfix (installed normally, debconf "No configuration": no system MTA is
#    configured or started; the lab runs its own instances with `postfix -c DIR`);
#  - dnsmasq-base (the dnsmasq binary without its system service);
#  - iproute2 (network namespaces, veth, bridge);
#  - Exim 4: conflicts with postfix as a Debian package, so its .debs are
#    fetched with `apt-get download` and unpacked with `dpkg -x` into
#    $LAB_EXIM_PREFIX (default /opt/cclab/exim4); its shared libraries are
#    installed normally and its system user Debian-exim is created;
#  - the strict receivers: exim4-daemon-heavy (built with SPF, by libspf2), unpacked
#    the same way into $LAB_EXIM_HEAVY_PREFIX (default /opt/cclab/exim4-heavy), with
#    the libraries it links; postfix-policyd-spf-python (installed normally: it is a
#    policy service for the installed Postfix, with its stock configuration).
#
# Idempotent; safe to run again. Needs root.
set -eu

LAB_EXIM_PREFIX=${LAB_EXIM_PREFIX:-/opt/cclab/exim4}
LAB_EXIM_HEAVY_PREFIX=${LAB_EXIM_HEAVY_PREFIX:-/opt/cclab/exim4-heavy}
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" != 0 ]; then
    echo "install-packages.sh: must run as root" >&2
    exit 1
fi

apt-get update -q

# Never start a system MTA while packages are installed.  A policy-rc.d that
# already exists is left alone.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    own_policy=1
fi
cleanup() { if [ -n "$own_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

apt-get install -y -q --no-install-recommends \
    postfix dnsmasq-base iproute2 adduser \
    libc6 libcrypt1 libdb5.3 libgnutls-dane0 libgnutls30 libidn12 libidn2-0 \
    libnsl2 libpcre2-8-0 \
    postfix-policyd-spf-python \
    libspf2-2 libmariadb3 libldap-2.5-0 libpam0g libperl5.36 libpq5 libsasl2-2 libsqlite3-0

# Exim, unpacked privately.
if ! "$LAB_EXIM_PREFIX/usr/sbin/exim4" -C /dev/null -bV >/dev/null 2>&1; then
    tmp=$(mktemp -d /var/tmp/cclab-debs.XXXXXX)
    if getent passwd _apt >/dev/null; then chown _apt "$tmp"; fi
    (
        cd "$tmp"
        apt-get download exim4-daemon-light exim4-base exim4-config
    )
    rm -rf "$LAB_EXIM_PREFIX"
    mkdir -p "$LAB_EXIM_PREFIX"
    for deb in "$tmp"/*.deb; do
        dpkg -x "$deb" "$LAB_EXIM_PREFIX"
    done
    rm -rf "$tmp"
fi

# exim4-daemon-heavy, unpacked privately beside the light one.
if ! "$LAB_EXIM_HEAVY_PREFIX/usr/sbin/exim4" -C /dev/null -bV >/dev/null 2>&1; then
    tmp=$(mktemp -d /var/tmp/cclab-debs.XXXXXX)
    if getent passwd _apt >/dev/null; then chown _apt "$tmp"; fi
    (
        cd "$tmp"
        apt-get download exim4-daemon-heavy
    )
    rm -rf "$LAB_EXIM_HEAVY_PREFIX"
    mkdir -p "$LAB_EXIM_HEAVY_PREFIX"
    dpkg -x "$tmp"/exim4-daemon-heavy_*.deb "$LAB_EXIM_HEAVY_PREFIX"
    rm -rf "$tmp"
fi

if ! getent passwd Debian-exim >/dev/null; then
    adduser --system --group --quiet --no-create-home --disabled-login \
        --force-badname --home /var/spool/exim4 Debian-exim
fi

"$LAB_EXIM_PREFIX/usr/sbin/exim4" -C /dev/null -bV | head -1
"$LAB_EXIM_HEAVY_PREFIX/usr/sbin/exim4" -C /dev/null -bV | grep -q 'SPF' || {
    echo "install-packages.sh: exim4-daemon-heavy has no SPF support" >&2
    exit 1
}
postconf -d mail_version
dnsmasq --version | head -1
