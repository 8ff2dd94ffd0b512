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
# shellcheck disable=SC2086
sh "$(dirname "$0")/../install-debs.sh" $PACKAGES

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

command -v icinga2 >/dev/null
test -d /usr/share/icinga2/include
test -x /usr/sbin/nrpe
test -x /usr/lib/nagios/plugins/check_nrpe
