#!/bin/sh
# Install the Debian packages that the deployment tests (tests/deploy) need:
# the tools that build the .deb (build-essential, which dpkg-buildpackage
# always checks for, debhelper, dh-python, pybuild's pyproject
# plugin), lintian, Debian's own python3-nagiosplugin and python3-dnspython
# and python3-spf (the package's dependencies, so installing the .deb needs no
# download), python3-spf-engine (policyd-spf's engine: the tests ask the real
# program what it answers) and spfquery (libspf2's command line, Exim's SPF
# library, compared with pyspf by the tests),
# and nagios4-core (Nagios Core 4 and Debian's stock object templates).
#
# Idempotent, for Debian 12 as root. A temporary policy-rc.d keeps package
# scripts from starting daemons (none of these ships one that starts).
set -eu

PACKAGES="build-essential debhelper dh-python pybuild-plugin-pyproject python3-all python3-setuptools
python3-wheel lintian python3-nagiosplugin python3-dnspython python3-idna python3-spf python3-spf-engine spfquery nagios4-core"
# shellcheck disable=SC2086
sh "$(dirname "$0")/../install-debs.sh" $PACKAGES

PATH=/usr/sbin:/usr/bin:/sbin:/bin
command -v dpkg-buildpackage >/dev/null
command -v lintian >/dev/null
test -x /usr/sbin/nagios4
test -f /etc/nagios4/objects/templates.cfg
/usr/bin/python3 -c 'import nagiosplugin, dns.resolver'
