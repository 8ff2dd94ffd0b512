#!/bin/sh
# Install the Debian packages that the Icinga 2 / NRPE integration tests need:
# icinga2-bin and icinga2-common (the daemon, `icinga2 daemon -C`, the ITL),
# nagios-nrpe-server (nrpe) and nagios-nrpe-plugin (check_nrpe).
#
# Idempotent, for Debian 12 as root. Package scripts are not allowed to start
# the system daemons (a temporary policy-rc.d denies it), so no icinga2 or
# nrpe is left running; the tests start their own on loopback.
set -eu

PACKAGES="icinga2-bin icinga2-common nagios-nrpe-server nagios-nrpe-plugin"
export DEBIAN_FRONTEND=noninteractive

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-packages: already installed:$(printf ' %s' $PACKAGES)"
else
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
    printf '#!/bin/sh\n# no service starts while install-packages.sh runs\nexit 101\n' >"$policy"
    chmod 0755 "$policy"

    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
    restore
    trap - EXIT INT TERM

    # Should a package script have started a daemon all the same, stop the
    # ones this installation may have started, by their pid files.
    for pidfile in /run/nagios/nrpe.pid /run/icinga2/icinga2.pid; do
        if [ -s "$pidfile" ]; then
            pid=$(cat "$pidfile")
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                echo "install-packages: stopping daemon $pid from $pidfile"
                kill "$pid" || true
            fi
        fi
    done
    echo "install-packages: installed:$missing"
fi

command -v icinga2 >/dev/null
test -d /usr/share/icinga2/include
test -x /usr/sbin/nrpe
test -x /usr/lib/nagios/plugins/check_nrpe
