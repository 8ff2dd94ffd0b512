#!/bin/sh
# Unpack the send-only MTAs of the origin truth table (contrib/lab/mtas,
# tests/lab/test_mta_origin.py) on Debian 12, without installing them.
#
# Exim 4, nullmailer, ssmtp, msmtp (+ msmtp-mta), dma and OpenSMTPD all
# provide mail-transport-agent and would remove the installed Postfix, so each
# one's .debs are fetched with `apt-get download` and unpacked with `dpkg -x`
# into $MTA_LAB_PREFIX/<mta> (default /opt/ccmta).  Their maintainer scripts
# never run: contrib/lab/mtas reproduces what they write, inside a throwaway
# namespace per configuration.  Only the shared libraries they link against
# are installed normally.  Postfix itself comes from install-packages.sh.
#
# Idempotent; safe to run again.  Needs root.
set -eu

MTA_LAB_PREFIX=${MTA_LAB_PREFIX:-/opt/ccmta}
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" != 0 ]; then
    echo "install-mtas.sh: must run as root" >&2
    exit 1
fi

apt-get install -y -q --no-install-recommends \
    util-linux iproute2 sudo \
    libgnutls-dane0 libidn12 libgsasl18 libsecret-1-0 libevent-2.1-7 \
    libgnutls-openssl27 libssl3 libpam0g zlib1g libdb5.3 libcrypt1 libnsl2 \
    libpcre2-8-0 libstdc++6 >/dev/null

unpack() {  # unpack MTA PACKAGE...
    mta=$1; shift
    dest="$MTA_LAB_PREFIX/$mta"
    if [ -f "$dest/.unpacked" ] && [ "$(cat "$dest/.unpacked")" = "$*" ]; then
        return 0
    fi
    tmp=$(mktemp -d /var/tmp/ccmta-debs.XXXXXX)
    if getent passwd _apt >/dev/null; then chown _apt "$tmp"; fi
    (cd "$tmp" && apt-get download -q "$@" >/dev/null)
    rm -rf "$dest"
    mkdir -p "$dest"
    for deb in "$tmp"/*.deb; do
        dpkg -x "$deb" "$dest"
    done
    rm -rf "$tmp"
    echo "$*" > "$dest/.unpacked"
}

unpack exim exim4-daemon-light exim4-base exim4-config
unpack nullmailer nullmailer
unpack ssmtp ssmtp
unpack msmtp msmtp msmtp-mta
unpack dma dma
unpack opensmtpd opensmtpd

for mta in exim nullmailer ssmtp msmtp dma opensmtpd; do
    printf '%s: ' "$mta"
    ls "$MTA_LAB_PREFIX/$mta/usr/sbin/sendmail" >/dev/null && echo unpacked
done
