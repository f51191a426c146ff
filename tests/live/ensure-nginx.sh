#!/bin/sh
# Make sure nginx is installed for the live tests (tests/live): as root on Debian or Ubuntu it is
# installed with apt-get; anywhere else this stops with a message naming the package to install.
set -eu

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
    echo "live tests: installing nginx (apt-get install -y nginx)" >&2
    # The tests start their own nginx; keep the package from starting a system one on port 80
    # (or failing its postinst where port 80 is taken).
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y nginx
    exit 0
fi

echo "live tests need nginx, which is not installed: install the 'nginx' package" \
    "(Debian/Ubuntu: sudo apt-get install -y nginx; Fedora: sudo dnf install nginx; macOS: brew install nginx)" >&2
exit 1
