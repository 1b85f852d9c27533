# /etc/cron.d/netrescue: PVE-Op-Network-Rescue, host side (the netrescue
# package). hostcheck every 5 minutes and at boot, midnight-reset at 00:00.
# "test -x" keeps cron quiet once the package is removed (this file is a
# conffile and stays until the package is purged).
SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin

*/5 * * * * root test -x /usr/bin/hostcheck && /usr/bin/hostcheck # netrescue
@reboot root test -x /usr/bin/hostcheck && /usr/bin/hostcheck boot # netrescue
0 0 * * * root test -x /usr/bin/midnight-reset && /usr/bin/midnight-reset # netrescue
